// The repository resolves modules the classic Node way, which ignores package
// "exports"; graphql-ws 6 publishes its ws adapter only there. Node resolves
// "graphql-ws/use/ws" at run time; this points the type checker at the same file.
declare module "graphql-ws/use/ws" {
  export * from "graphql-ws/dist/use/ws";
}
