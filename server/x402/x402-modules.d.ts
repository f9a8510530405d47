// The repository resolves modules the classic Node way, which ignores package
// "exports"; the @x402 packages publish their entry points only there. Node
// resolves them at run time; these point the type checker at the same files.
declare module "@x402/core/facilitator" {
  export * from "@x402/core/dist/cjs/facilitator";
}
declare module "@x402/core/http" {
  export * from "@x402/core/dist/cjs/http";
}
declare module "@x402/core/types" {
  export * from "@x402/core/dist/cjs/types";
}
declare module "@x402/core/client" {
  export * from "@x402/core/dist/cjs/client";
}
declare module "@x402/evm/exact/facilitator" {
  export * from "@x402/evm/dist/cjs/exact/facilitator";
}
declare module "@x402/evm/exact/client" {
  export * from "@x402/evm/dist/cjs/exact/client";
}
declare module "@x402/fetch" {
  export * from "@x402/fetch/dist/cjs";
}
