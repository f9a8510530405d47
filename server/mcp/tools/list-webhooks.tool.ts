import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { success } from "../tool-result";
import { McpWebhooks } from "../../api/documents";
import { WebhookView, toWebhookView } from "../../api/webhook";

export function registerListWebhooksTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "list_webhooks",
    {
      title: "List your webhooks",
      description: "Your webhook endpoints in this key's mode, newest first.",
      inputSchema: {},
      outputSchema: { endpoints: z.array(WebhookView) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { webhookEndpoints } = await run(backend, McpWebhooks, {}, signal);
      return success({ endpoints: webhookEndpoints.map(toWebhookView) });
    },
  );
}
