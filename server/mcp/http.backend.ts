import type { Client } from "graphql-ws";
import { McpTaskChanged } from "../api/documents";
import { newsToAgent, type GraphQLBackend, type GraphQLResponse } from "./graphql.backend";
import { ToolError } from "./tool-result";

/** How long one GraphQL call over the network may take before the tool gives up. */
const REQUEST_TIMEOUT_MS = 30_000;

function unreachable(endpoint: URL, err: unknown): ToolError {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return new ToolError("UNAVAILABLE", `HumanOps at ${endpoint.origin} did not answer in time. Retry shortly.`);
  }
  const cause = err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.message) : String(err);
  return new ToolError("UNAVAILABLE", `could not reach HumanOps at ${endpoint.origin} (${cause}). Check HUMANOPS_API_URL and that the server is up, then retry.`);
}

/** Where an MCP host keeps a stdio server's key. */
const PERSIST_KEY = 'set it as "HUMANOPS_API_KEY" in the "env" of this MCP server in the host\'s config (claude_desktop_config.json or .cursor/mcp.json)';

/**
 * graphql-ws and ws, loaded when the first wait or subscription starts: a
 * session that never waits (and every start) does without them.
 */
function socketClient(url: string, apiKey: () => string | undefined): Client {
  const { createClient } = require("graphql-ws") as typeof import("graphql-ws");
  const WebSocket = (require("ws") as typeof import("ws")).WebSocket;
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: () => {
      const key = apiKey();
      return key ? { "x-api-key": key } : {};
    },
    lazy: true,
    retryAttempts: 3,
  });
}

/**
 * The stdio server's backend: each operation is a POST to HumanOps's
 * /graphql with the configured key in X-API-Key. Change notices come over
 * graphql-ws on the same URL (ws:// or wss://), with the key in
 * connection_init; the socket is opened on the first watch and closed after
 * the last. The key goes nowhere else.
 */
export function createHttpBackend(endpoint: URL, configuredKey: string | undefined): GraphQLBackend {
  let apiKey = configuredKey;
  let live: Client | undefined;
  const socketUrl = new URL(endpoint);
  socketUrl.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  return {
    watchTask(taskId, changed) {
      live ??= socketClient(socketUrl.href, () => apiKey);
      // A failed subscription (no socket, a refused key) only means no notices: polling carries on.
      return live.subscribe(
        { query: McpTaskChanged.source, variables: { id: taskId } },
        {
          next: (result) => {
            const update = (result.data as { taskUpdated?: { kind?: string; actorType?: string } } | null | undefined)?.taskUpdated;
            if (!update || newsToAgent(update)) changed();
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
    },
    get keyInstructions() {
      return apiKey ? `${PERSIST_KEY} and restart the server` : "this session uses it at once";
    },
    adoptKey(newKey) {
      if (apiKey) return undefined;
      apiKey = newKey;
      return PERSIST_KEY;
    },
    async execute(document, variables, signal) {
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", ...(apiKey ? { "x-api-key": apiKey } : {}) },
          body: JSON.stringify({ query: document.source, variables }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        throw unreachable(endpoint, err);
      }
      const body = (await response.json().catch(() => undefined)) as GraphQLResponse<never> | undefined;
      if (!body || typeof body !== "object" || !("data" in body || "errors" in body)) {
        throw new ToolError(
          "UNAVAILABLE",
          `${endpoint.href} answered HTTP ${response.status} without a GraphQL response. Check that HUMANOPS_API_URL points at a HumanOps server, then retry.`,
        );
      }
      return body;
    },
  };
}
