import type { GraphQLBackend } from "./graphql.backend";
import { explain } from "./guidance";

/**
 * Runs one GraphQL operation and returns its data, or throws the first error
 * as a ToolError a model can act on.
 */
export async function run<T>(backend: GraphQLBackend, query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const response = await backend.execute<T>(query, variables, signal);
  const error = response.errors?.[0];
  if (error) throw explain(error, backend.keyInstructions);
  if (!response.data) throw explain({ message: "HumanOps answered without data" }, backend.keyInstructions);
  return response.data;
}
