import type { ApolloServer } from "@apollo/server";
import type { Context } from "../graphql/context";
import type { ContextFactory } from "../graphql/apollo";
import type { GraphQLBackend, GraphQLResponse } from "./graphql.backend";

/**
 * The /mcp backend: operations run in this process through the app's Apollo
 * server, so they meet the same schema, context (an EntityManager fork per
 * call, the key authenticated each time) and error formatting as /graphql.
 */
export function createInProcessBackend(apollo: ApolloServer<Context>, createContext: ContextFactory, apiKey: string | undefined): GraphQLBackend {
  return {
    keyInstructions: "open a new MCP connection to /mcp that sends it in the X-API-Key header (or Authorization: Bearer)",
    async execute<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<T>> {
      const response = await apollo.executeOperation<T>({ query, variables }, { contextValue: await createContext(apiKey) });
      if (response.body.kind !== "single") throw new Error("MCP operations never use incremental delivery");
      return { data: response.body.singleResult.data, errors: response.body.singleResult.errors };
    },
  };
}
