import type { GraphQLDocument } from "../api/document";
import type { GraphQLBackend } from "./graphql.backend";
import { explain } from "./guidance";

/**
 * Runs one of the documents of server/api and returns its data, or throws
 * the first error as a ToolError a model can act on.
 */
export async function run<TData, TVariables>(backend: GraphQLBackend, document: GraphQLDocument<TData, TVariables>, variables: NoInfer<TVariables>, signal?: AbortSignal): Promise<TData> {
  const response = await backend.execute(document, variables, signal);
  const error = response.errors?.[0];
  if (error) throw explain(error, backend.keyInstructions);
  if (!response.data) throw explain({ message: "HumanOps answered without data" }, backend.keyInstructions);
  return response.data;
}
