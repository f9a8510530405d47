import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WEBHOOK_EVENT_TYPES } from "../../api/enums";
import { McpCreateWebhook } from "../../api/documents";
import { WebhookView, toWebhookView } from "../../api/webhook";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerRegisterWebhookTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "register_webhook",
    {
      title: "Register a webhook",
      description:
        "Have HumanOps POST task events to your backend, signed per Standard Webhooks (webhook-signature header) with the secret returned here, once. Live keys need a public https URL.",
      inputSchema: {
        url: z.string().describe("e.g. https://example.com/humanops/events"),
        event_types: z
          .array(z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]]))
          .optional()
          .describe("Default task.status_changed: every transition"),
        secret: z.string().optional().describe("whsec_<base64 of 24-64 bytes>; generated if left out"),
        description: z.string().optional().describe('What it is for, shown in list_webhooks, e.g. "payouts"'),
        idempotency_key: z.string().optional().describe("Retrying with the same key returns the first endpoint"),
      },
      outputSchema: WebhookView.extend({
        secret: z.string(),
        next_step: z.string(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, { signal }) => {
      const input = { url: args.url, eventTypes: args.event_types, secret: args.secret, description: args.description, idempotencyKey: args.idempotency_key };
      const { createWebhookEndpoint } = await run(backend, McpCreateWebhook, { input }, signal);
      return success({
        ...toWebhookView(createWebhookEndpoint.endpoint),
        secret: createWebhookEndpoint.secret,
        next_step: "Store secret now: it is not shown again. Verify each delivery's webhook-signature header with it (e.g. new Webhook(secret).verify(body, headers) from the standardwebhooks package) before trusting the event.",
      });
    },
  );
}
