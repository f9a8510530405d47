import type { ApolloServer } from "@apollo/server";
import type { Context } from "../graphql/context";
import type { ContextFactory } from "../graphql/context";
import type { GraphQLBackend, GraphQLResponse } from "./graphql.backend";
import type { LiveFeed, LiveQueue } from "../subscriptions/live-feed";
import { Topics } from "../subscriptions/live-feed";

/**
 * The /mcp backend: operations run in this process through the app's Apollo
 * server, so they meet the same schema, context (an EntityManager fork per
 * call, the key authenticated each time) and error formatting as /graphql.
 * Change notices come straight from this process's live feed, the one
 * graphql-ws subscribers read, filtered to the key's own tasks.
 */
export function createInProcessBackend(
  apollo: ApolloServer<Context>,
  createContext: ContextFactory,
  apiKey: string | undefined,
  /** Where the session was opened from: a session without a key spends that address's budgets. */
  clientAddress: string,
  live: LiveFeed,
): GraphQLBackend {
  return {
    watchTask(taskId, changed) {
      let queue: LiveQueue | undefined;
      let stopped = false;
      void createContext(apiKey).then(async ({ principal }) => {
        if (stopped || principal?.kind !== "agent") return;
        queue = live.listen(Topics.task(taskId), (event) => event.agentId === principal.agentId && event.mode === principal.mode);
        // Ends when the queue is closed (stopped, or it fell behind: then polling carries on alone).
        for (;;) {
          await queue.next();
          changed();
        }
      }).catch(() => undefined);
      return () => {
        stopped = true;
        queue?.close();
      };
    },
    keyInstructions: "open a new MCP connection to /mcp that sends it in the X-API-Key header (or Authorization: Bearer)",
    async execute<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<T>> {
      const response = await apollo.executeOperation<T>({ query, variables }, { contextValue: await createContext(apiKey, clientAddress) });
      if (response.body.kind !== "single") throw new Error("MCP operations never use incremental delivery");
      return { data: response.body.singleResult.data, errors: response.body.singleResult.errors };
    },
  };
}
