import { z } from "zod";
import { presentEndpoint, type GqlEndpoint } from "../rest/webhooks.routes";

/**
 * A webhook endpoint as the MCP tools show it: the REST API's presentation
 * (server/rest/webhooks.routes.ts) narrowed to what a model acts on; zod
 * drops the rest (delivery timestamps, failure counters).
 */
export const WebhookSchema = z.object({
  endpoint_id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  status: z.string().describe("ACTIVE or DISABLED"),
  task_id: z.string().nullable().describe("Set for a task's own callback URL"),
  signature_scheme: z.string().describe("STANDARD or LEGACY (deprecated)"),
  secret_fingerprint: z.string(),
  disabled_reason: z.string().nullable(),
});

export function toWebhookView(endpoint: GqlEndpoint): z.infer<typeof WebhookSchema> {
  return WebhookSchema.parse(presentEndpoint(endpoint));
}

export { ENDPOINT_SELECTION, type GqlEndpoint } from "../rest/webhooks.routes";
