import { randomUUID } from "node:crypto";
import { BigIntType, Entity, Index, PrimaryKey, Property, Unique } from "@mikro-orm/core";

/**
 * One Idempotency-Key of one caller: the hash of the request that first used
 * it and, once that request finished, its answer. The key itself is stored
 * only as an HMAC, and the answer is sealed under a key derived from the
 * Idempotency-Key, so a row is useless to anyone who does not hold the key
 * (a registration's answer carries an API key). Times are epoch
 * milliseconds, like the job table, so the same SQL serves both dialects.
 */
@Entity({ tableName: "idempotency_keys" })
@Unique({ properties: ["scope", "keyHash"] })
@Index({ properties: ["expiresAt"] })
export class IdempotencyRecord {
  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  /** The API key's id, or "anonymous" for calls that need no key. */
  @Property({ type: "string", length: 64 })
  scope: string;

  @Property({ type: "string", length: 64 })
  keyHash: string;

  @Property({ type: "string", length: 64 })
  requestHash: string;

  /** Null while the first request is still running. */
  @Property({ type: "integer", nullable: true })
  responseStatus?: number;

  @Property({ type: "text", nullable: true })
  sealedResponse?: string;

  /** Until then the first request owns the key; after, a retry may take it over (its process died). */
  @Property({ type: new BigIntType("number") })
  lockedUntil: number;

  @Property({ type: new BigIntType("number") })
  expiresAt: number;

  @Property({ type: new BigIntType("number") })
  createdAt: number = Date.now();

  constructor(scope: string, keyHash: string, requestHash: string, lockedUntil: number, expiresAt: number) {
    this.scope = scope;
    this.keyHash = keyHash;
    this.requestHash = requestHash;
    this.lockedUntil = lockedUntil;
    this.expiresAt = expiresAt;
  }
}
