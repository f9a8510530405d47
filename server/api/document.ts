import type { TypedDocument } from "./operations.generated";

/**
 * A GraphQL document REST or MCP runs, typed by the data it selects and the
 * variables it takes (typed from schema.graphql by scripts/graphql-types.cjs
 * into operations.generated.ts). Every document is made with `graphql()` at
 * the top level of server/api/documents.ts, which registers it: the server checks
 * them all against its schema when it starts (server/graphql/runner.ts), so
 * a document that no longer fits the schema stops the start, naming it.
 */
export interface GraphQLDocument<TData = unknown, TVariables = Record<string, unknown>> {
  /** The operation's name, e.g. "GetTask". */
  readonly name: string;
  readonly source: string;
  /** Types only: never set. */
  readonly types?: { data: TData; variables: TVariables };
}

/** The data a document selects. */
export type DataOf<D> = D extends GraphQLDocument<infer TData, unknown> ? TData : never;
/** The variables a document takes. */
export type VariablesOf<D> = D extends GraphQLDocument<unknown, infer TVariables> ? TVariables : never;

const registered = new Map<string, GraphQLDocument<unknown, unknown>>();

/**
 * Registers a named operation of server/api/operations (as
 * operations.generated.ts types it); its name must be unique among the
 * documents.
 */
export function graphql<TData, TVariables>(source: TypedDocument<TData, TVariables>): GraphQLDocument<TData, TVariables> {
  const name = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(source)?.[1];
  if (!name) throw new Error(`a HumanOps API document must be one named operation: ${source.slice(0, 80)}`);
  if (registered.has(name)) throw new Error(`two HumanOps API documents are named ${name}`);
  const document: GraphQLDocument<TData, TVariables> = { name, source };
  registered.set(name, document);
  return document;
}

/** Every document made so far (all of them once server/api/documents.ts is loaded). */
export function registeredDocuments(): readonly GraphQLDocument<unknown, unknown>[] {
  return [...registered.values()];
}
