import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { McpDeleteWebhook } from "../../api/documents";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerDeleteWebhookTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "delete_webhook",
    {
      title: "Delete a webhook",
      description: "Stop deliveries to a webhook endpoint and delete it with its delivery log. Cannot be undone.",
      inputSchema: { endpoint_id: z.string().describe("The endpoint's id, from register_webhook or list_webhooks") },
      outputSchema: { endpoint_id: z.string(), deleted: z.literal(true) },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ endpoint_id }, { signal }) => {
      const { deleteWebhookEndpoint } = await run(backend, McpDeleteWebhook, { id: endpoint_id }, signal);
      return success({ endpoint_id: deleteWebhookEndpoint, deleted: true as const });
    },
  );
}
