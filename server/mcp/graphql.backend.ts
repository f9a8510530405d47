import type { GraphQLDocument } from "../api/document";

/** One GraphQL error as HumanOps formats it (server/graphql/error-formatter.ts). */
export interface GraphQLErrorShape {
  message: string;
  extensions?: {
    code?: string;
    field?: string;
    details?: Record<string, unknown>;
    reference?: string;
  };
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: readonly GraphQLErrorShape[];
}

/**
 * Where the MCP tools send their GraphQL operations, always as one caller:
 * over HTTP to HUMANOPS_API_URL (the stdio server) or in-process against the
 * app's own schema (Streamable HTTP at /mcp). The tools hold no business
 * logic; everything they do is one of these operations.
 */
export interface GraphQLBackend {
  /** Runs one of the documents of server/api/documents.ts as this connection's caller. */
  execute<TData, TVariables>(document: GraphQLDocument<TData, TVariables>, variables: TVariables, signal?: AbortSignal): Promise<GraphQLResponse<TData>>;
  /**
   * Calls `changed` whenever the task may have moved on, as HumanOps's live
   * updates announce it: a hint that cuts a poll's wait short (the polled
   * state stays the truth, so a lost hint only costs time). Returns the
   * function that stops it. Absent where no push channel exists.
   */
  watchTask?(taskId: string, changed: () => void): () => void;
  /** How this connection's caller supplies an API key, told to a model that has none or a refused one. */
  readonly keyInstructions: string;
  /**
   * Where the connection started without a key and can take one for itself
   * (stdio: one host, one process), makes every later call use `apiKey` and
   * returns how to keep it for later sessions. Absent, or undefined, where
   * the key belongs to the connection (/mcp sessions are bound to theirs).
   */
  adoptKey?(apiKey: string): string | undefined;
}

/** Whether a task event is news to the agent watching its task: its own rating (RATED by the AGENT) is not, so it wakes no wait. */
export function newsToAgent(event: { kind?: string | null; actorType?: string | null }): boolean {
  return !(event.kind === "RATED" && event.actorType === "AGENT");
}
