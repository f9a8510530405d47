import { randomUUID } from "node:crypto";
import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { ApiKey } from "../agents/api-key.entity";

/**
 * A signed-in browser: the web app exchanged an API key for it, and its
 * cookie carries a random token of its own, stored here only as an HMAC
 * (like the key). It acts as the key's principal for as long as the key is
 * not revoked, the session is used within the idle timeout and it is younger
 * than its absolute expiry. Times are epoch milliseconds, like the job and
 * idempotency tables, so the sweep's SQL is the same in both dialects.
 */
@Entity({ tableName: "browser_sessions" })
@Index({ properties: ["key"] })
@Index({ properties: ["expiresAt"] })
@Index({ properties: ["lastUsedAt"] })
export class BrowserSession {
  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Unique()
  @Property({ type: "string", length: 64 })
  tokenHash: string;

  @ManyToOne(() => ApiKey, { deleteRule: "cascade" })
  key: ApiKey;

  @Property({ type: new BigIntType("number") })
  createdAt: number = Date.now();

  /** Moved forward as the session is used (at most every few seconds), for the idle timeout. */
  @Property({ type: new BigIntType("number") })
  lastUsedAt: number = Date.now();

  /** The absolute end, however often the session is used. */
  @Property({ type: new BigIntType("number") })
  expiresAt: number;

  constructor(tokenHash: string, key: ApiKey, expiresAt: number) {
    this.tokenHash = tokenHash;
    this.key = key;
    this.expiresAt = expiresAt;
  }
}
