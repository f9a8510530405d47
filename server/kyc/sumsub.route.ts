import express from "express";
import type { Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import { DomainError } from "../common/errors";
import type { Services } from "../services";
import { DigestHeaders, parseSumsubEvent, verifyPayloadDigest } from "./sumsub.webhook";

export const SUMSUB_WEBHOOK_PATH = "/webhooks/sumsub";

/** Sumsub's webhook bodies are small JSON documents. */
const MAX_BODY_BYTES = 256 * 1024;

function reply(res: express.Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/**
 * POST /webhooks/sumsub: Sumsub's applicant webhooks. The digest is checked
 * over the raw bytes before anything is parsed; a bad or missing one is 401
 * and changes nothing. A 2xx tells Sumsub to stop retrying, so only events
 * HumanOps cannot act on (an applicant it did not create) are acknowledged
 * without effect; anything that failed is non-2xx and Sumsub sends it again.
 */
export function mountSumsubWebhook(app: express.Express, deps: { orm: Orm; services: Services; log: Logger }): void {
  app.post(SUMSUB_WEBHOOK_PATH, express.raw({ type: () => true, limit: MAX_BODY_BYTES }), async (req, res) => {
    const settings = deps.services.config.kyc;
    if (!settings) return reply(res, 404, "NOT_FOUND", "KYC is not configured on this server");
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyPayloadDigest(settings.webhookSecret.reveal(), raw, req.header(DigestHeaders.digest), req.header(DigestHeaders.algorithm))) {
      deps.log.warn({ ip: req.ip, algorithm: req.header(DigestHeaders.algorithm) }, "refused a Sumsub webhook: missing or wrong X-Payload-Digest");
      return reply(res, 401, "UNAUTHENTICATED", "X-Payload-Digest: must be the HMAC of the raw body under the webhook secret (X-Payload-Digest-Alg: HMAC_SHA256_HEX, HMAC_SHA512_HEX or HMAC_SHA1_HEX)");
    }
    let event;
    try {
      event = parseSumsubEvent(raw);
    } catch (err) {
      return reply(res, 400, "BAD_USER_INPUT", (err as Error).message);
    }
    try {
      const result = await deps.services.kyc.applyEvent(deps.orm.em.fork(), event);
      deps.log.info({ applicantId: event.applicantId, type: event.type, createdAtMs: event.createdAtMs, ...result }, "Sumsub webhook");
      res.json({ status: result.outcome });
    } catch (err) {
      if (err instanceof DomainError) {
        deps.log.warn({ applicantId: event.applicantId, type: event.type, reason: err.message }, "Sumsub webhook not applied");
        return reply(res, err.httpStatus, err.code, err.message);
      }
      deps.log.error({ err, applicantId: event.applicantId, type: event.type }, "Sumsub webhook failed; Sumsub will retry");
      reply(res, 500, "INTERNAL_SERVER_ERROR", "the webhook could not be applied; retry later");
    }
  });
}
