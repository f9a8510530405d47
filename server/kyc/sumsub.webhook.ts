import { createHmac, timingSafeEqual } from "node:crypto";

/*
 * Sumsub's webhooks (docs.sumsub.com/docs/webhook-manager,
 * docs.sumsub.com/docs/user-verification-webhooks): a POST whose raw body is
 * signed with the webhook's secret key; X-Payload-Digest is the hex HMAC of
 * the body and X-Payload-Digest-Alg names the algorithm (HMAC_SHA256_HEX by
 * default, HMAC_SHA512_HEX, or the legacy HMAC_SHA1_HEX). Payload fields:
 * applicantId, externalUserId, levelName, type, reviewStatus, correlationId,
 * createdAtMs ("yyyy-MM-dd HH:mm:ss.fff", UTC) and, for applicantReviewed,
 * reviewResult {reviewAnswer GREEN|RED, reviewRejectType FINAL|RETRY,
 * moderationComment, clientComment, rejectLabels}.
 */

export const DigestHeaders = {
  digest: "X-Payload-Digest",
  algorithm: "X-Payload-Digest-Alg",
} as const;

export const DIGEST_ALGORITHMS = { HMAC_SHA1_HEX: "sha1", HMAC_SHA256_HEX: "sha256", HMAC_SHA512_HEX: "sha512" } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export function payloadDigest(secret: string, rawBody: Buffer | string, algorithm: DigestAlgorithm = "HMAC_SHA256_HEX"): string {
  return createHmac(DIGEST_ALGORITHMS[algorithm], secret).update(rawBody).digest("hex");
}

/** True when `digest` is the HMAC of exactly these bytes; compared in constant time. A missing header defaults to SHA-256, as Sumsub's does. */
export function verifyPayloadDigest(secret: string, rawBody: Buffer, digest: string | undefined, algorithm: string | undefined): boolean {
  const alg = (algorithm ?? "HMAC_SHA256_HEX") as DigestAlgorithm;
  if (!(alg in DIGEST_ALGORITHMS) || !digest || !/^[0-9a-fA-F]+$/.test(digest)) return false;
  const expected = Buffer.from(payloadDigest(secret, rawBody, alg), "hex");
  const received = Buffer.from(digest, "hex");
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** The part of a webhook HumanOps acts on. */
export interface SumsubEvent {
  type: string;
  applicantId: string;
  externalUserId: string;
  createdAtMs: number;
  reviewStatus?: string;
  reviewAnswer?: string;
  rejectType?: string;
  /** What the operator may be told; clientComment is for platform staff only and is not kept. */
  reason?: string;
}

/** Reads a verified body; throws a message naming the field when it is not a Sumsub applicant event. */
export function parseSumsubEvent(rawBody: Buffer): SumsubEvent {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new Error("body: must be JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error("body: must be a JSON object");
  const text = (field: string): string => {
    const value = body[field];
    if (typeof value !== "string" || !value) throw new Error(`${field}: is required`);
    return value;
  };
  const review = (typeof body.reviewResult === "object" && body.reviewResult ? body.reviewResult : {}) as Record<string, unknown>;
  const optional = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  const labels = Array.isArray(review.rejectLabels) ? review.rejectLabels.filter((l): l is string => typeof l === "string") : [];
  return {
    type: text("type"),
    applicantId: text("applicantId"),
    externalUserId: text("externalUserId"),
    createdAtMs: requireTime("createdAtMs", text("createdAtMs")),
    reviewStatus: optional(body.reviewStatus),
    reviewAnswer: optional(review.reviewAnswer),
    rejectType: optional(review.reviewRejectType),
    reason: optional(review.moderationComment) ?? (labels.length ? labels.join(", ") : undefined),
  };
}

/** Sumsub's UTC times, "2024-05-14 16:00:25.032" (also "…T…", "…Z", "…+0000") → epoch ms; undefined when it is not one. */
export function parseSumsubTime(value: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(?:Z|\+00:?00)?$/.exec(value);
  const ms = match ? Date.parse(`${match[1]}T${match[2]}Z`) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function requireTime(field: string, value: string): number {
  const ms = parseSumsubTime(value);
  if (ms === undefined) throw new Error(`${field}: must be a UTC time as yyyy-MM-dd HH:mm:ss.SSS`);
  return ms;
}
