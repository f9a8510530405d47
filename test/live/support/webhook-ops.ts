import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { ReceivedRequest } from "./receiver";

export const CREATE_ENDPOINT = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes status signatureScheme secretFingerprint mode taskId } } }`;
export const ROTATE_SECRET = `mutation($id: ID!, $input: RotateWebhookEndpointSecretInput) {
  rotateWebhookEndpointSecret(id: $id, input: $input) {
    secret endpoint { id signatureScheme secretFingerprint previousSecretFingerprint previousSecretExpiresAt } } }`;
export const UPDATE_ENDPOINT = `mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { id url eventTypes status disabledAt disabledReason consecutiveFailures } }`;
export const ENDPOINT = `query($id: ID!) { webhookEndpoint(id: $id) { id status disabledAt disabledReason consecutiveFailures lastSuccessAt lastFailureAt } }`;
export const DELIVERY_FIELDS = `id eventId eventType status attempts lastStatusCode lastError taskId endpointId payload nextAttemptDueAt deliveredAt
  attemptLog { attempt succeeded statusCode error responseExcerpt startedAt durationMs }`;
export const DELIVERIES = `query($filter: WebhookDeliveryFilter, $first: Int! = 50, $after: ID) {
  webhookDeliveries(filter: $filter, first: $first, after: $after) { nodes { ${DELIVERY_FIELDS} } pageInfo { hasNextPage endCursor } } }`;
export const REDELIVER = `mutation($id: ID!) { redeliverWebhook(id: $id) { ${DELIVERY_FIELDS} } }`;

/**
 * A receiver's check of a Standard Webhooks delivery, made with the spec's
 * own library (not HumanOps' signer): the webhook-id, webhook-timestamp and
 * webhook-signature headers against the raw body, within its 5-minute tolerance.
 */
export function standardSignatureValid(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

/**
 * The receiver's side of the deprecated HumanOps-Signature (LEGACY
 * endpoints), written out as the README tells a receiver to (independently
 * of the server's own signer): HMAC-SHA256 of "<t>.<raw body>" with the
 * endpoint's secret, compared in constant time.
 */
export function legacySignatureValid(secret: string, request: ReceivedRequest): boolean {
  const header = String(request.headers["humanops-signature"] ?? "");
  const { t, v1 } = Object.fromEntries(header.split(",").map((part) => part.split("=")));
  if (!t || !v1 || t !== request.headers["humanops-timestamp"]) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${request.body}`).digest();
  const received = Buffer.from(v1, "hex");
  return received.length === expected.length && timingSafeEqual(received, expected);
}
