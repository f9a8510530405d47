import { createHmac, randomBytes } from "node:crypto";
import type { Em } from "../db/orm";
import { UnauthenticatedError } from "../common/errors";
import { Mode } from "../common/mode";
import { ApiKey } from "./api-key.entity";
import type { Agent } from "./agent.entity";
import type { Operator } from "../operators/operator.entity";

/** Who is calling: resolved from an API key on every request. */
export type Principal =
  | { kind: "agent"; agentId: string; mode: Mode; keyId: string }
  | { kind: "operator"; operatorId: string; mode: Mode; keyId: string };

const KEY_PREFIX: Record<Mode, string> = { [Mode.TEST]: "ho_test_", [Mode.LIVE]: "ho_live_" };
const KEY_FORMAT = /^ho_(test|live)_[A-Za-z0-9_-]{43}$/;

/**
 * API keys: 256 random bits behind a mode prefix (ho_test_ / ho_live_, like
 * Stripe's sk_test_). Only an HMAC of the key under a server pepper is stored,
 * so a database leak yields no usable key.
 */
export class ApiKeyService {
  constructor(private readonly pepper: string) {}

  hash(plaintext: string): string {
    return createHmac("sha256", this.pepper).update(plaintext).digest("hex");
  }

  /** Persists a new key for its owner and returns the plaintext, which is never stored. */
  issue(em: Em, mode: Mode, owner: { agent: Agent } | { operator: Operator }): string {
    const plaintext = KEY_PREFIX[mode] + randomBytes(32).toString("base64url");
    em.persist(new ApiKey(this.hash(plaintext), plaintext.slice(0, 16), mode, owner));
    return plaintext;
  }

  async authenticate(em: Em, plaintext: string): Promise<Principal> {
    if (!KEY_FORMAT.test(plaintext)) throw new UnauthenticatedError("the API key is malformed: expected ho_test_... or ho_live_...");
    const key = await em.findOne(ApiKey, { hash: this.hash(plaintext) }, { fields: ["mode", "revokedAt", "agent", "operator"] });
    if (!key || key.revokedAt) throw new UnauthenticatedError("the API key is not valid or has been revoked");
    if (key.agent) return { kind: "agent", agentId: key.agent.id, mode: key.mode, keyId: key.id };
    return { kind: "operator", operatorId: key.operator!.id, mode: key.mode, keyId: key.id };
  }

  async revoke(em: Em, keyId: string): Promise<void> {
    await em.nativeUpdate(ApiKey, { id: keyId, revokedAt: null }, { revokedAt: new Date() });
  }
}
