import { z } from "zod";
import { WebhookDeliveryStatus, WebhookEndpointStatus, WebhookSignatureScheme, restMode } from "./enums";
import { component, dateTime, uuid } from "./json-schema";
import type { DeliveryFieldsFragment, DeliverySummaryFieldsFragment, EndpointFieldsFragment } from "./operations.generated";
import { ModeSchema, projection } from "./task";

/**
 * Webhook endpoints and their deliveries as REST (and, in brief, the MCP
 * webhook tools) show them: the GraphQL results, the schemas and the
 * mapping.
 */

/** What the webhook operations select (the fragments of server/api/operations/fragments.graphql), as schema.graphql types it. */
export type GqlEndpoint = EndpointFieldsFragment;
export type GqlDeliverySummary = DeliverySummaryFieldsFragment;
export type GqlDelivery = DeliveryFieldsFragment;

const text = () => z.string().nullable();
const count = () => z.int().min(0);

const ENDPOINT_SHAPE = {
  endpoint_id: uuid(),
  url: z.string(),
  description: text(),
  event_types: z.array(z.string()).describe("task.status_changed means every task transition"),
  status: z.enum(WebhookEndpointStatus),
  mode: ModeSchema,
  task_id: uuid().nullable().describe("Set for a task's own callback_url: only that task's events come here"),
  signature_scheme: z
    .enum(WebhookSignatureScheme)
    .describe(
      "STANDARD: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). LEGACY (deprecated, endpoints from before): HumanOps-Signature; rotating the secret moves an endpoint to STANDARD",
    ),
  secret_fingerprint: z.string().describe("12 hex digits of SHA-256(secret): tells secrets apart without revealing them"),
  previous_secret_fingerprint: text().describe("After a rotation: the replaced secret's fingerprint while it still signs deliveries"),
  previous_secret_expires_at: dateTime().nullable().describe("After a rotation: until when the replaced secret also signs every delivery"),
  consecutive_failures: count(),
  last_success_at: dateTime().nullable(),
  last_failure_at: dateTime().nullable(),
  disabled_at: dateTime().nullable(),
  disabled_reason: text(),
  created_at: dateTime(),
  updated_at: dateTime(),
};

const DELIVERY_SUMMARY_SHAPE = {
  delivery_id: z.string(),
  endpoint_id: uuid(),
  event_id: z.string().describe("The webhook-id header: the same on every attempt, so receivers can de-duplicate"),
  event_type: z.string(),
  task_id: text(),
  status: z.enum(WebhookDeliveryStatus),
  attempts: count(),
  last_status_code: z.int().nullable(),
  last_error: text(),
  next_attempt_due_at: dateTime().nullable(),
  delivered_at: dateTime().nullable(),
  created_at: dateTime(),
  updated_at: dateTime(),
};

export const WebhookEndpointSchema = component("WebhookEndpoint", z.strictObject(ENDPOINT_SHAPE).describe("A URL that receives signed task events"));
export const WebhookEndpointCreatedSchema = component(
  "WebhookEndpointCreated",
  z
    .strictObject({ ...ENDPOINT_SHAPE, secret: z.string().describe("The signing secret (whsec_… for STANDARD endpoints). Shown once: store it now.") })
    .describe("The new endpoint and its signing secret"),
);
export const WebhookEndpointSecretRotatedSchema = component(
  "WebhookEndpointSecretRotated",
  z
    .strictObject({
      ...ENDPOINT_SHAPE,
      secret: z.string().describe("The new signing secret (whsec_…). Shown once: store it now; the replaced one also signs until previous_secret_expires_at."),
    })
    .describe("The endpoint, now STANDARD, and its new signing secret"),
);
export const WebhookEndpointListSchema = component("WebhookEndpointList", z.strictObject({ endpoints: z.array(WebhookEndpointSchema) }));
export const WebhookEndpointDeletedSchema = component("WebhookEndpointDeleted", z.strictObject({ endpoint_id: uuid(), deleted: z.literal(true) }));
export const WebhookDeliverySummarySchema = component(
  "WebhookDeliverySummary",
  z.strictObject(DELIVERY_SUMMARY_SHAPE).describe("One event sent (or being sent) to one endpoint"),
);
export const WebhookDeliverySchema = component(
  "WebhookDelivery",
  z
    .strictObject({
      ...DELIVERY_SUMMARY_SHAPE,
      payload: z.string().describe("The exact JSON body that is signed and sent"),
      attempt_log: z
        .array(
          z.strictObject({
            attempt: z.int().min(1),
            started_at: dateTime(),
            duration_ms: count(),
            status_code: z.int().nullable(),
            succeeded: z.boolean(),
            error: text(),
            response_excerpt: text().describe("At most the first 512 bytes of the response body"),
          }),
        )
        .describe("Every HTTP attempt, oldest first"),
    })
    .describe("A delivery with its payload and every attempt"),
);
export const WebhookDeliveryListSchema = component(
  "WebhookDeliveryList",
  z.strictObject({
    deliveries: z.array(WebhookDeliverySummarySchema),
    pagination: z.strictObject({
      limit: z.int(),
      has_more: z.boolean(),
      next_cursor: text().describe("Pass as `after` for the next page"),
    }),
  }),
);
export const WebhookEventTypesSchema = component("WebhookEventTypes", z.strictObject({ event_types: z.array(z.string()) }));

export type EndpointBody = z.output<typeof WebhookEndpointSchema>;

export function presentEndpoint(endpoint: GqlEndpoint): EndpointBody {
  return {
    endpoint_id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    status: endpoint.status,
    mode: restMode(endpoint.mode),
    task_id: endpoint.taskId,
    signature_scheme: endpoint.signatureScheme,
    secret_fingerprint: endpoint.secretFingerprint,
    previous_secret_fingerprint: endpoint.previousSecretFingerprint,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt,
    consecutive_failures: endpoint.consecutiveFailures,
    last_success_at: endpoint.lastSuccessAt,
    last_failure_at: endpoint.lastFailureAt,
    disabled_at: endpoint.disabledAt,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

export function presentDeliverySummary(delivery: GqlDeliverySummary): z.output<typeof WebhookDeliverySummarySchema> {
  return {
    delivery_id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    task_id: delivery.taskId,
    status: delivery.status,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    next_attempt_due_at: delivery.nextAttemptDueAt,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
    updated_at: delivery.updatedAt,
  };
}

export function presentDelivery(delivery: GqlDelivery): z.output<typeof WebhookDeliverySchema> {
  return {
    ...presentDeliverySummary(delivery),
    payload: delivery.payload,
    attempt_log: delivery.attemptLog.map((attempt) => ({
      attempt: attempt.attempt,
      started_at: attempt.startedAt,
      duration_ms: attempt.durationMs,
      status_code: attempt.statusCode,
      succeeded: attempt.succeeded,
      error: attempt.error,
      response_excerpt: attempt.responseExcerpt,
    })),
  };
}

/** An endpoint as the MCP webhook tools show it: what a model acts on (zod drops the delivery timestamps and failure counters). */
export const WebhookView = projection(WebhookEndpointSchema, {
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

export function toWebhookView(endpoint: GqlEndpoint): z.output<typeof WebhookView> {
  return WebhookView.parse(presentEndpoint(endpoint));
}
