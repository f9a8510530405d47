import { createHmac } from "node:crypto";
import { registerEnumType } from "type-graphql";
import { WebhookSignatureScheme } from "../api/enums";

export { WebhookSignatureScheme };

registerEnumType(WebhookSignatureScheme, {
  name: "WebhookSignatureScheme",
  description: "How deliveries are signed: STANDARD (Standard Webhooks, the default) or LEGACY (deprecated HumanOps-Signature)",
  valuesConfig: { LEGACY: { deprecationReason: "rotate the endpoint's secret to move it to STANDARD" } },
});

/** The headers of every delivery. Header names are case-insensitive on the wire. */
export const WebhookHeaders = {
  /** Standard Webhooks: the event id (evt_…), the same on every attempt, so receivers can de-duplicate. */
  id: "webhook-id",
  /** Standard Webhooks: unix seconds of this attempt; signed, so a captured request cannot be replayed later. */
  timestamp: "webhook-timestamp",
  /** Standard Webhooks: space-separated `v1,<base64>` signatures, one per active secret (two while a rotation overlaps). */
  signature: "webhook-signature",
  eventType: "HumanOps-Event-Type",
  deliveryId: "HumanOps-Delivery-Id",
} as const;

/** The first release's headers, still sent to LEGACY endpoints (and to an endpoint rotating away from LEGACY, while the old secret is valid). */
export const LegacyWebhookHeaders = {
  signature: "HumanOps-Signature",
  timestamp: "HumanOps-Timestamp",
  eventId: "HumanOps-Event-Id",
} as const;

const STANDARD_SECRET_PREFIX = "whsec_";
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The spec asks for 24 to 64 random bytes. */
export const STANDARD_SECRET_BYTES = { min: 24, max: 64 } as const;

/**
 * The HMAC key of a secret in the spec's `whsec_<base64>` form, or undefined
 * when the text is not in that form (padding included, 24 to 64 bytes).
 */
export function standardSecretKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  const key = Buffer.from(encoded, "base64");
  return key.length >= STANDARD_SECRET_BYTES.min && key.length <= STANDARD_SECRET_BYTES.max ? key : undefined;
}

/** `v1,` base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")): the event id, the time and the exact body are signed together. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = standardSecretKey(secret);
  if (!key) throw new Error("a STANDARD endpoint's secret is not in the whsec_<base64> form");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** LEGACY: hex(HMAC-SHA256(secret text, "<timestamp>.<body>")). */
export function legacySignature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export interface SigningSecret {
  scheme: WebhookSignatureScheme;
  secret: string;
}

export interface SignedDelivery {
  eventId: string;
  eventType: string;
  deliveryId: string;
  /** Unix seconds of this attempt: each attempt is signed afresh, so receivers can hold a tight tolerance. */
  timestamp: number;
  body: string;
}

/**
 * The headers of one attempt, signed with every active secret: during a
 * rotation both the new and the old secret sign (Standard Webhooks carries
 * several signatures in one header, and a receiver accepts any it can
 * verify), so a receiver may switch to the new secret at any moment of the
 * overlap. A LEGACY secret signs in HumanOps-Signature instead.
 */
export function deliveryHeaders(delivery: SignedDelivery, secrets: readonly SigningSecret[]): Record<string, string> {
  const { eventId, timestamp, body } = delivery;
  const headers: Record<string, string> = {
    [WebhookHeaders.id]: eventId,
    [WebhookHeaders.timestamp]: String(timestamp),
    [WebhookHeaders.eventType]: delivery.eventType,
    [WebhookHeaders.deliveryId]: delivery.deliveryId,
  };
  const standard = secrets.filter((s) => s.scheme === WebhookSignatureScheme.STANDARD).map((s) => standardSignature(s.secret, eventId, timestamp, body));
  if (standard.length > 0) headers[WebhookHeaders.signature] = standard.join(" ");
  const legacy = secrets.find((s) => s.scheme === WebhookSignatureScheme.LEGACY);
  if (legacy) {
    headers[LegacyWebhookHeaders.eventId] = eventId;
    headers[LegacyWebhookHeaders.timestamp] = String(timestamp);
    headers[LegacyWebhookHeaders.signature] = legacySignature(legacy.secret, timestamp, body);
  }
  return headers;
}
