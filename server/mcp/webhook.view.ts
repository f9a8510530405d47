import { z } from "zod";
import type { Mode } from "../common/mode";
import { ModeSchema, modeOf } from "./task.view";

/** A webhook endpoint as the MCP tools show it: the same fields and names as the REST API (server/rest/webhooks.routes.ts). */

export const WEBHOOK_FIELDS = `id url description eventTypes status mode taskId secretFingerprint consecutiveFailures lastSuccessAt lastFailureAt disabledAt disabledReason createdAt updatedAt`;

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
export type WebhookView = z.infer<typeof WebhookSchema>;

/** An endpoint as WEBHOOK_FIELDS selects it. */
export interface WebhookData {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: string;
  mode: Mode;
  taskId: string | null;
  secretFingerprint: string;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toWebhookView(endpoint: WebhookData): WebhookView {
  return {
    endpoint_id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    status: endpoint.status,
    mode: modeOf(endpoint.mode),
    task_id: endpoint.taskId,
    secret_fingerprint: endpoint.secretFingerprint,
    consecutive_failures: endpoint.consecutiveFailures,
    last_success_at: endpoint.lastSuccessAt,
    last_failure_at: endpoint.lastFailureAt,
    disabled_at: endpoint.disabledAt,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}
