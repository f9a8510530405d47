import { randomUUID } from "node:crypto";
import { BigIntType, Entity, Index, ManyToOne, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { ApiKey } from "../agents/api-key.entity";
import { Admin } from "../admin/admin.entity";

/**
 * A signed-in browser: the web app exchanged an API key (or a platform
 * admin's key) for it, and its cookie carries a random token of its own,
 * stored here only as an HMAC (like the key). It acts as the key's
 * principal (or as the admin) for as long as the key is not revoked, the session is used within the idle timeout and it is younger
 * than its absolute expiry. Times are epoch milliseconds, like the job and
 * idempotency tables, so the sweep's SQL is the same in both dialects.
 */
@Entity({ tableName: "browser_sessions" })
@Index({ properties: ["key"] })
@Index({ properties: ["admin"] })
@Index({ properties: ["expiresAt"] })
@Index({ properties: ["lastUsedAt"] })
export class BrowserSession {
  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Unique()
  @Property({ type: "string", length: 64 })
  tokenHash: string;

  /** The agent's or operator's key signed in with; null for an admin's session. */
  @ManyToOne(() => ApiKey, { deleteRule: "cascade", nullable: true })
  key: ApiKey | null;

  /** The platform admin signed in (with an ho_admin_ key); null for an agent's or operator's session. */
  @ManyToOne(() => Admin, { deleteRule: "cascade", nullable: true })
  admin: Admin | null;

  @Property({ type: new BigIntType("number") })
  createdAt: number = Date.now();

  /** Moved forward as the session is used (at most every few seconds), for the idle timeout. */
  @Property({ type: new BigIntType("number") })
  lastUsedAt: number = Date.now();

  /** The absolute end, however often the session is used. */
  @Property({ type: new BigIntType("number") })
  expiresAt: number;

  constructor(tokenHash: string, owner: { key: ApiKey } | { admin: Admin }, expiresAt: number) {
    this.tokenHash = tokenHash;
    this.key = "key" in owner ? owner.key : null;
    this.admin = "admin" in owner ? owner.admin : null;
    this.expiresAt = expiresAt;
  }
}
