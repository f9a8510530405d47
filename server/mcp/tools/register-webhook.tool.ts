import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WEBHOOK_EVENT_TYPES } from "../../webhooks/webhook.events";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { success } from "../tool-result";
import { ENDPOINT_SELECTION, WebhookSchema, presentEndpoint, type GqlEndpoint } from "../webhook.view";

const CREATE_WEBHOOK = `mutation McpCreateWebhook($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } } }`;

interface Created {
  createWebhookEndpoint: { secret: string; endpoint: GqlEndpoint };
}

export function registerRegisterWebhookTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "register_webhook",
    {
      title: "Register a webhook",
      description:
        "Have HumanOps POST signed task events (accepted, proof submitted, verified, paid, ...) to a URL of your backend, for services that are not connected over MCP. " +
        "Each delivery carries a HumanOps-Signature header computed with the secret returned here once. Live-mode keys need a public https URL.",
      inputSchema: {
        url: z.string().describe("Where events are POSTed, e.g. https://example.com/humanops/events"),
        event_types: z
          .array(z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]]))
          .optional()
          .describe("Event types to deliver; default task.status_changed, i.e. every transition of every task"),
        secret: z.string().optional().describe("Your own signing secret (24-256 characters); by default one is generated"),
        description: z.string().optional(),
        idempotency_key: z.string().optional().describe("Calling again with the same key returns the first endpoint instead of creating another"),
      },
      outputSchema: WebhookSchema.extend({
        secret: z.string().describe("The signing secret; shown once"),
        next_step: z.string(),
      }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, { signal }) => {
      const input = { url: args.url, eventTypes: args.event_types, secret: args.secret, description: args.description, idempotencyKey: args.idempotency_key };
      const { createWebhookEndpoint } = await run<Created>(backend, CREATE_WEBHOOK, { input }, signal);
      return success({
        ...presentEndpoint(createWebhookEndpoint.endpoint),
        secret: createWebhookEndpoint.secret,
        next_step: "Store secret now: it is not shown again. Verify each delivery's HumanOps-Signature header with it before trusting the event.",
      });
    },
  );
}
