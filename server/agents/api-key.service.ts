import { createHmac, randomBytes } from "node:crypto";
import type { Em } from "../db/orm";
import { UnauthenticatedError } from "../common/errors";
import { Mode } from "../common/mode";
import { ApiKey } from "./api-key.entity";
import { CallerCache } from "./caller-cache";
import { leanRows, leanStatement } from "../db/lean";
import type { Agent } from "./agent.entity";
import type { Operator } from "../operators/operator.entity";

/** Who is calling: resolved from an API key on every request. */
export type Principal =
  | { kind: "agent"; agentId: string; mode: Mode; keyId: string }
  | { kind: "operator"; operatorId: string; mode: Mode; keyId: string };

const KEY_PREFIX: Record<Mode, string> = { [Mode.TEST]: "ho_test_", [Mode.LIVE]: "ho_live_" };
const KEY_FORMAT = /^ho_(test|live)_[A-Za-z0-9_-]{43}$/;

const KEY_BY_HASH = leanStatement("api_key_by_hash", "select id, mode, agent_id, operator_id, revoked_at from api_keys where hash = ?");

interface KeyRow {
  id: string;
  mode: Mode;
  agent_id: string | null;
  operator_id: string | null;
  revoked_at: unknown;
}

/** Where revocations are told to (and heard from) the other replicas: the cluster bus (server/events/cluster-bus.ts). */
export interface RevocationChannel {
  announceRevocation(keyId: string): void;
  /** `null`: notices may have been missed, every key is in doubt. */
  onRevocation(listener: (keyId: string | null) => void): void;
}

/**
 * API keys: 256 random bits behind a mode prefix (ho_test_ / ho_live_, like
 * Stripe's sk_test_). Only an HMAC of the key under a server pepper is stored,
 * so a database leak yields no usable key.
 */
export class ApiKeyService {
  private readonly callers: CallerCache;
  private channel?: RevocationChannel;
  private readonly revocationListeners: Array<(keyId: string | null) => void> = [];

  /** `cacheMs`: how long a resolved caller is trusted without asking the database (0: never cached); `now`: the cache's clock. */
  constructor(
    private readonly pepper: string,
    cacheMs = 0,
    now: () => number = Date.now,
  ) {
    this.callers = new CallerCache(cacheMs, now);
  }

  /** Revocations made here are announced on `channel`, and those heard on it end this replica's trust in the key at once. */
  shareRevocations(channel: RevocationChannel): void {
    this.channel = channel;
    channel.onRevocation((keyId) => {
      if (keyId === null) this.callers.forgetAll();
      else this.callers.forget(keyId);
      this.revoked(keyId);
    });
  }

  /** Called on every revocation made here or heard from another replica (`null`: some may have been missed), e.g. to close the key's connections. */
  onRevocation(listener: (keyId: string | null) => void): void {
    this.revocationListeners.push(listener);
  }

  private revoked(keyId: string | null): void {
    for (const listener of this.revocationListeners) listener(keyId);
  }

  hash(plaintext: string): string {
    return createHmac("sha256", this.pepper).update(plaintext).digest("hex");
  }

  /** Persists a new key for its owner and returns the plaintext, which is never stored. */
  issue(em: Em, mode: Mode, owner: { agent: Agent } | { operator: Operator }): string {
    const plaintext = KEY_PREFIX[mode] + randomBytes(32).toString("base64url");
    em.persist(new ApiKey(this.hash(plaintext), plaintext.slice(0, 16), mode, owner));
    return plaintext;
  }

  /** The caller of a key: from the cache, or read from the database (`em`, or a function that forks one only then). */
  async authenticate(em: Em | (() => Em), plaintext: string): Promise<Principal> {
    if (!KEY_FORMAT.test(plaintext)) throw new UnauthenticatedError("the API key is malformed: expected ho_test_... or ho_live_...");
    const hash = this.hash(plaintext);
    const cached = this.callers.get(hash);
    if (cached) return cached;
    const mark = this.callers.mark();
    const principal = await this.lookUp(typeof em === "function" ? em() : em, hash);
    this.callers.remember(hash, principal, mark);
    return principal;
  }

  /** Revokes a key: refused at once here, on the other replicas as soon as they hear (or their cache's time-to-live runs out). */
  async revoke(em: Em, keyId: string): Promise<void> {
    this.callers.forget(keyId);
    await em.nativeUpdate(ApiKey, { id: keyId, revokedAt: null }, { revokedAt: new Date() });
    // Over Redis this replica hears its own notice; without it (no channel, or the in-process bus) it tells its listeners itself.
    if (this.channel) this.channel.announceRevocation(keyId);
    else this.revoked(keyId);
  }

  private async lookUp(em: Em, hash: string): Promise<Principal> {
    const rows = await leanRows<KeyRow>(em, KEY_BY_HASH, [hash]);
    const key = rows
      ? rows[0]
      : await em.findOne(ApiKey, { hash }, { fields: ["mode", "revokedAt", "agent", "operator"] }).then(
          (found): KeyRow | undefined => found ? { id: found.id, mode: found.mode, agent_id: found.agent?.id ?? null, operator_id: found.operator?.id ?? null, revoked_at: found.revokedAt ?? null } : undefined,
        );
    if (!key || key.revoked_at !== null) throw new UnauthenticatedError("the API key is not valid or has been revoked");
    if (key.agent_id) return { kind: "agent", agentId: key.agent_id, mode: key.mode, keyId: key.id };
    return { kind: "operator", operatorId: key.operator_id!, mode: key.mode, keyId: key.id };
  }
}
