import type { ContextFactory } from "../graphql/context";
import type { OperationRunner } from "../graphql/runner";
import { newsToAgent, type GraphQLBackend } from "./graphql.backend";
import type { LiveFeed, LiveQueue } from "../events/live-feed";
import { Topics } from "../events/live-feed";

/**
 * The /mcp backend: operations run in this process through the runner REST
 * uses too, so they meet the same schema, context (an EntityManager fork per
 * call, the key authenticated each time), query budget and error formatting
 * as /graphql. Change notices come straight from this process's live feed,
 * the one graphql-ws subscribers read, filtered to the key's own tasks.
 */
export function createInProcessBackend(
  runner: OperationRunner,
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
        // The agent's own rating is no news to it: it wakes no wait.
        queue = live.listen(Topics.task(taskId), (event) => event.agentId === principal.agentId && event.mode === principal.mode && newsToAgent(event));
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
    async execute(document, variables) {
      return runner.execute(document, await createContext(apiKey, clientAddress), variables);
    },
  };
}
