import { z } from "zod";
import { ModeSchema } from "./task.view";

/** A webhook endpoint as the MCP tools show it: the REST API's own presentation (server/rest/webhooks.routes.ts), described for MCP hosts. */

export const WebhookSchema = z.object({
  endpoint_id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()).describe("task.status_changed means every task transition"),
  status: z.string().describe("ACTIVE, or DISABLED after persistent delivery failures"),
  mode: ModeSchema,
  task_id: z.string().nullable().describe("Set for a task's own callback URL: only that task's events go there"),
  secret_fingerprint: z.string().describe("12 hex digits of SHA-256(secret): tells secrets apart without revealing them"),
  consecutive_failures: z.number().int(),
  last_success_at: z.string().nullable(),
  last_failure_at: z.string().nullable(),
  disabled_at: z.string().nullable(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export { ENDPOINT_SELECTION, presentEndpoint, type GqlEndpoint } from "../rest/webhooks.routes";
