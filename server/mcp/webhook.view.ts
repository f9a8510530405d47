import { z } from "zod";
import { Mode } from "../common/mode";

/** A webhook endpoint as the MCP tools show it (snake_case, like the REST API). */

export const WEBHOOK_FIELDS = `id url eventTypes status mode taskId description secretFingerprint consecutiveFailures lastSuccessAt lastFailureAt disabledReason createdAt`;

export const WebhookSchema = z.object({
  webhook_id: z.string(),
  url: z.string(),
  event_types: z.array(z.string()).describe("task.status_changed means every task transition"),
  status: z.string().describe("ACTIVE, or DISABLED after persistent delivery failures"),
  mode: z.enum(Mode),
  task_id: z.string().nullable().describe("Set for a task's own callback URL: only that task's events go there"),
  description: z.string().nullable(),
  secret_fingerprint: z.string().describe("12 hex digits of SHA-256(secret): tells secrets apart without revealing them"),
  consecutive_failures: z.number().int(),
  last_success_at: z.string().nullable(),
  last_failure_at: z.string().nullable(),
  disabled_reason: z.string().nullable(),
  created_at: z.string(),
});
export type WebhookView = z.infer<typeof WebhookSchema>;

/** An endpoint as WEBHOOK_FIELDS selects it. */
export interface WebhookData {
  id: string;
  url: string;
  eventTypes: string[];
  status: string;
  mode: Mode;
  taskId: string | null;
  description: string | null;
  secretFingerprint: string;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledReason: string | null;
  createdAt: string;
}

export function toWebhookView(endpoint: WebhookData): WebhookView {
  return {
    webhook_id: endpoint.id,
    url: endpoint.url,
    event_types: endpoint.eventTypes,
    status: endpoint.status,
    mode: endpoint.mode,
    task_id: endpoint.taskId,
    description: endpoint.description,
    secret_fingerprint: endpoint.secretFingerprint,
    consecutive_failures: endpoint.consecutiveFailures,
    last_success_at: endpoint.lastSuccessAt,
    last_failure_at: endpoint.lastFailureAt,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt,
  };
}
