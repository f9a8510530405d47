import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { success } from "../tool-result";
import { ENDPOINT_SELECTION, WebhookSchema, toWebhookView, type GqlEndpoint } from "../webhook.view";

const LIST_WEBHOOKS = `query McpWebhooks { webhookEndpoints { ${ENDPOINT_SELECTION} } }`;

export function registerListWebhooksTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "list_webhooks",
    {
      title: "List your webhooks",
      description: "Your webhook endpoints in this key's mode, newest first.",
      inputSchema: {},
      outputSchema: { endpoints: z.array(WebhookSchema) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { webhookEndpoints } = await run<{ webhookEndpoints: GqlEndpoint[] }>(backend, LIST_WEBHOOKS, {}, signal);
      return success({ endpoints: webhookEndpoints.map(toWebhookView) });
    },
  );
}
