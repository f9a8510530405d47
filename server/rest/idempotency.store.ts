import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em, Orm } from "../db/orm";
import { ConflictError } from "../common/errors";
import type { Logger } from "../common/logger";
import { enqueue } from "../jobs/job.queue";
import { IdempotencyRecord } from "./idempotency.entity";
import type { RestResponse } from "./rest.route";
import { JobKinds } from "../jobs/job.kinds";

export const IdempotencyJobs = JobKinds.idempotency;

export interface IdempotencyOptions {
  /** How long an answer is kept for replay. */
  ttlMs: number;
  /** How long the first request owns its key before a retry may take over (its process died). */
  lockMs: number;
  /** How long a concurrent retry waits for the first request's answer. */
  waitMs: number;
}

const DEFAULTS: IdempotencyOptions = { ttlMs: 24 * 3_600_000, lockMs: 30_000, waitMs: 15_000 };
const HOUR_MS = 3_600_000;

export interface IdempotentOutcome {
  response: RestResponse;
  replayed: boolean;
}

type Claim = { kind: "owner"; id: string } | { kind: "replay"; response: RestResponse };

/** The same JSON whatever the key order: {"a":1,"b":2} and {"b":2,"a":1} are one request. */
function canonicalJson(value: unknown): string {
  const sorted = JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
  return sorted ?? "null";
}

/**
 * Durable Idempotency-Keys, shared by every replica through the database.
 * The first request with a key inserts its row and runs; a concurrent
 * identical request waits for that answer and replays it; the same key with
 * another request is a CONFLICT. Answers are kept for a day, sealed with
 * AES-256-GCM under a key derived from the Idempotency-Key, which is itself
 * stored only as an HMAC.
 */
export class IdempotencyStore {
  private nextPurgeAt = 0;

  constructor(
    private readonly orm: Orm,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly options: IdempotencyOptions = DEFAULTS,
  ) {}

  /**
   * Runs `execute` at most once per (scope, key) and request, `request`
   * being what identifies it (method, path, body). Answers that may change
   * on a retry (401, 402, 429, 5xx) are not kept.
   */
  async run(scope: string, key: string, request: unknown, execute: () => Promise<RestResponse>): Promise<IdempotentOutcome> {
    // Keyed, because a body may hold a secret (a webhook's callback_secret).
    const hash = createHmac("sha256", this.secret).update(canonicalJson(request)).digest("hex");
    const claim = await this.claim(scope, key, hash);
    if (claim.kind === "replay") return { response: claim.response, replayed: true };
    let response: RestResponse;
    try {
      response = await execute();
    } catch (err) {
      await this.release(claim.id);
      throw err;
    }
    if (isFinal(response.status)) await this.complete(claim.id, scope, key, response);
    else await this.release(claim.id);
    return { response, replayed: false };
  }

  async purgeExpired(em: Em): Promise<number> {
    return em.nativeDelete(IdempotencyRecord, { expiresAt: { $lt: Date.now() } });
  }

  private async claim(scope: string, key: string, hash: string): Promise<Claim> {
    const keyHash = this.digest("idempotency-key", scope, key).toString("hex");
    const giveUpAt = Date.now() + this.options.waitMs;
    for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 100)) {
      const now = Date.now();
      const em = this.orm.em.fork();
      const record = new IdempotencyRecord(scope, keyHash, hash, now + this.options.lockMs, now + this.options.ttlMs);
      try {
        await em.insert(record);
        return { kind: "owner", id: record.id };
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
      }
      const existing = await em.findOne(IdempotencyRecord, { scope, keyHash });
      if (!existing) continue;
      if (existing.expiresAt <= now) {
        await em.nativeDelete(IdempotencyRecord, { id: existing.id, expiresAt: existing.expiresAt });
        continue;
      }
      if (existing.requestHash !== hash) {
        throw new ConflictError("this Idempotency-Key was already used with a different request; use a new key for a new request");
      }
      if (existing.responseStatus != null) return { kind: "replay", response: this.open(existing, scope, key) };
      if (existing.lockedUntil <= now && (await this.takeOver(em, existing, now))) return { kind: "owner", id: existing.id };
      if (Date.now() + delayMs > giveUpAt) throw new ConflictError("a request with this Idempotency-Key is still in progress; retry it later");
      await sleep(delayMs);
    }
  }

  /** The first owner's lease ran out without an answer: exactly one waiting retry wins the row. */
  private async takeOver(em: Em, record: IdempotencyRecord, now: number): Promise<boolean> {
    const taken = await em.nativeUpdate(
      IdempotencyRecord,
      { id: record.id, lockedUntil: record.lockedUntil, responseStatus: null },
      { lockedUntil: now + this.options.lockMs },
    );
    return taken === 1;
  }

  private async complete(id: string, scope: string, key: string, response: RestResponse): Promise<void> {
    const sealedResponse = this.seal(scope, key, JSON.stringify(response));
    await this.orm.em.fork().nativeUpdate(IdempotencyRecord, { id }, { responseStatus: response.status, sealedResponse, lockedUntil: Date.now() });
    await this.schedulePurge();
  }

  private async release(id: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(IdempotencyRecord, { id, responseStatus: null });
  }

  /** At most once an hour per process, and once an hour across replicas (the job's dedupe key). */
  private async schedulePurge(): Promise<void> {
    const now = Date.now();
    if (now < this.nextPurgeAt) return;
    const hour = Math.floor(now / HOUR_MS);
    this.nextPurgeAt = (hour + 1) * HOUR_MS;
    const em = this.orm.em.fork();
    enqueue(em, IdempotencyJobs.purge, {}, { dedupeKey: `${IdempotencyJobs.purge}:${hour}` });
    try {
      await em.flush();
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) this.log.warn({ err }, "could not schedule the idempotency key purge");
    }
  }

  private digest(purpose: string, scope: string, key: string): Buffer {
    return createHmac("sha256", this.secret).update(`${purpose}\0${scope}\0${key}`).digest();
  }

  private seal(scope: string, key: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.digest("idempotency-response", scope, key), iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
  }

  private open(record: IdempotencyRecord, scope: string, key: string): RestResponse {
    const sealed = Buffer.from(record.sealedResponse!, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.digest("idempotency-response", scope, key), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString("utf8")) as RestResponse;
  }
}

/** 402 is not final either: the same request, paid over x402, goes through with the same key. */
function isFinal(status: number): boolean {
  return status < 500 && status !== 401 && status !== 402 && status !== 429;
}
