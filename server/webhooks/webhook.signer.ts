import { createHmac, timingSafeEqual } from "node:crypto";

/** The headers of every delivery. Header names are case-insensitive on the wire. */
export const WebhookHeaders = {
  signature: "HumanOps-Signature",
  timestamp: "HumanOps-Timestamp",
  eventId: "HumanOps-Event-Id",
  eventType: "HumanOps-Event-Type",
  deliveryId: "HumanOps-Delivery-Id",
} as const;

/** Receivers should refuse signatures older than this, so a captured request cannot be replayed later. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** hex(HMAC-SHA256(secret, "<timestamp>.<body>")): the timestamp is signed with the body, so neither can be swapped. */
export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/** `t=<unix seconds>,v1=<hex>`; each attempt is signed afresh with its own timestamp. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

/**
 * What a receiver does with a delivery (the README shows the same in a few
 * lines of Node): recompute the HMAC over the raw body and compare in
 * constant time, then check the timestamp is recent.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = new Map((header ?? "").split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestamp = Number(parts.get("t"));
  const received = Buffer.from(parts.get("v1") ?? "", "hex");
  if (!Number.isInteger(timestamp) || received.length === 0) return false;
  const expected = Buffer.from(computeSignature(secret, timestamp, body), "hex");
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return Math.abs(now - timestamp) <= (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
}
