import { createHmac } from "node:crypto";
import type { KycSettings } from "./kyc.config";
import { parseJsonOrUndefined } from "../common/json";

/*
 * A client for the few Sumsub API calls HumanOps needs, written against
 * Sumsub's public reference:
 * - Authentication (docs.sumsub.com/reference/authentication): headers
 *   X-App-Token, X-App-Access-Ts (unix seconds) and X-App-Access-Sig =
 *   lowercase hex HMAC-SHA256(secretKey, ts + METHOD + path-with-query + body).
 * - Create applicant (docs.sumsub.com/reference/create-applicants):
 *   POST /resources/applicants?levelName=... with {"externalUserId"}; an
 *   existing externalUserId answers 409.
 * - Get applicant data by externalUserId
 *   (docs.sumsub.com/reference/get-applicant-data-via-externaluserid):
 *   GET /resources/applicants/-;externalUserId=.../one.
 * - Generate access token (docs.sumsub.com/reference/generate-access-token):
 *   POST /resources/accessTokens/sdk with {userId, levelName, ttlInSecs}
 *   → {token, userId}.
 * - Get applicant review status (docs.sumsub.com/reference/get-applicant-review-status):
 *   GET /resources/applicants/{id}/status → {reviewStatus, reviewResult}.
 * - Errors (docs.sumsub.com/reference/error-codes-description): a JSON body
 *   {description, code, correlationId, errorCode?, errorName?}.
 * Credentials stay in this file's headers: they are never part of an error
 * message or a log line.
 */

export const SumsubHeaders = {
  appToken: "X-App-Token",
  timestamp: "X-App-Access-Ts",
  signature: "X-App-Access-Sig",
} as const;

/** hex(HMAC-SHA256(secretKey, ts + METHOD + pathWithQuery + body)), as Sumsub recomputes it. */
export function appAccessSignature(secretKey: string, ts: number | string, method: string, pathWithQuery: string, body: string): string {
  return createHmac("sha256", secretKey).update(`${ts}${method.toUpperCase()}${pathWithQuery}${body}`).digest("hex");
}

export interface SumsubApplicant {
  id: string;
  externalUserId: string;
  levelName?: string;
}

export interface SumsubAccessToken {
  token: string;
  userId: string;
}

export interface SumsubReviewStatus {
  reviewStatus?: string;
  /** When the check was completed (UTC, "yyyy-MM-dd HH:mm:ss"). */
  reviewDate?: string;
  reviewResult?: { reviewAnswer?: string; reviewRejectType?: string; moderationComment?: string; rejectLabels?: string[] };
}

/** A failed Sumsub call: the HTTP status and Sumsub's own description, never a credential. */
export class SumsubError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    description: string,
    readonly correlationId?: string,
  ) {
    super(`Sumsub ${operation} failed${status ? ` (HTTP ${status})` : ""}: ${description}`);
    this.name = "SumsubError";
  }
}

export class SumsubClient {
  constructor(private readonly settings: Pick<KycSettings, "baseUrl" | "appToken" | "secretKey" | "timeoutMs">) {}

  /** Creates the applicant for `externalUserId` on `levelName`, or returns the one that already exists. */
  async ensureApplicant(externalUserId: string, levelName: string): Promise<SumsubApplicant> {
    const created = await this.call<SumsubApplicant>("create applicant", "POST", `/resources/applicants?levelName=${encodeURIComponent(levelName)}`, { externalUserId }, [409]);
    if (created.status !== 409) return applicant(created.body, "create applicant");
    const existing = await this.call<SumsubApplicant>("get applicant", "GET", `/resources/applicants/-;externalUserId=${encodeURIComponent(externalUserId)}/one`);
    return applicant(existing.body, "get applicant");
  }

  /** A WebSDK access token for one applicant, valid `ttlInSecs`. */
  async accessToken(userId: string, levelName: string, ttlInSecs: number): Promise<SumsubAccessToken> {
    const { body } = await this.call<SumsubAccessToken>("generate access token", "POST", "/resources/accessTokens/sdk", { userId, levelName, ttlInSecs });
    if (typeof body?.token !== "string" || !body.token) throw new SumsubError("generate access token", 200, "the answer has no token");
    return { token: body.token, userId: body.userId };
  }

  async reviewStatus(applicantId: string): Promise<SumsubReviewStatus> {
    const { body } = await this.call<SumsubReviewStatus>("get review status", "GET", `/resources/applicants/${encodeURIComponent(applicantId)}/status`);
    return body ?? {};
  }

  private async call<T>(operation: string, method: "GET" | "POST", pathWithQuery: string, payload?: unknown, acceptedErrors: number[] = []): Promise<{ status: number; body: T | undefined }> {
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const ts = Math.floor(Date.now() / 1000);
    let res: Response;
    try {
      res = await fetch(`${this.settings.baseUrl}${pathWithQuery}`, {
        method,
        headers: {
          accept: "application/json",
          // Sumsub asks JS clients to send it even without a body.
          "content-type": "application/json",
          [SumsubHeaders.appToken]: this.settings.appToken.reveal(),
          [SumsubHeaders.timestamp]: String(ts),
          [SumsubHeaders.signature]: appAccessSignature(this.settings.secretKey.reveal(), ts, method, pathWithQuery, body),
        },
        body: method === "GET" ? undefined : body,
        redirect: "error",
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      throw new SumsubError(operation, undefined, timedOut ? `no answer within ${this.settings.timeoutMs} ms` : (err as Error).message);
    }
    const text = await res.text();
    const parsed = parseJsonOrUndefined(text) as (T & { description?: unknown; correlationId?: unknown }) | undefined;
    if (res.ok || acceptedErrors.includes(res.status)) return { status: res.status, body: parsed };
    const description = typeof parsed?.description === "string" ? parsed.description : text.slice(0, 200) || res.statusText;
    throw new SumsubError(operation, res.status, description, typeof parsed?.correlationId === "string" ? parsed.correlationId : undefined);
  }
}

function applicant(body: SumsubApplicant | undefined, operation: string): SumsubApplicant {
  if (typeof body?.id !== "string" || !body.id) throw new SumsubError(operation, 200, "the answer has no applicant id");
  return { id: body.id, externalUserId: body.externalUserId, levelName: body.levelName };
}
