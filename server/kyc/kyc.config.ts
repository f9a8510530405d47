import { inspect } from "node:util";
import { z } from "zod";
import { envInt as int, envProblems } from "../common/env";

/**
 * Operator identity verification through Sumsub. Off unless the three
 * secrets are given together: without them live operators cannot start KYC
 * and /webhooks/sumsub is not served (test mode never needs KYC).
 */
export interface KycSettings {
  /** https://api.sumsub.com, or a local fake in tests. */
  baseUrl: string;
  appToken: Secret;
  /** Signs every API request (X-App-Access-Sig). */
  secretKey: Secret;
  /** Signs every webhook Sumsub sends us (X-Payload-Digest). */
  webhookSecret: Secret;
  /** The verification level configured in the Sumsub dashboard. */
  levelName: string;
  /** Lifetime of a WebSDK access token. */
  tokenTtlSeconds: number;
  /** Bound on every call to Sumsub. */
  timeoutMs: number;
}

/** A credential that prints as "[redacted]" in logs, JSON and inspection; `reveal()` is the only way to read it. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return "[redacted]";
  }

  toString(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return "[redacted]";
  }
}

const secret = z.string().min(8, "must be at least 8 characters").optional();

const KycEnv = z.object({
  SUMSUB_BASE_URL: z.string().regex(/^https?:\/\/[^/]+$/, "must be an http(s):// origin without a path, e.g. https://api.sumsub.com").default("https://api.sumsub.com"),
  SUMSUB_APP_TOKEN: secret,
  SUMSUB_SECRET_KEY: secret,
  SUMSUB_WEBHOOK_SECRET: secret,
  SUMSUB_LEVEL_NAME: z.string().min(1).max(200).default("basic-kyc-level"),
  SUMSUB_TOKEN_TTL_SECONDS: int(60, 86_400).default(1_800),
  SUMSUB_TIMEOUT_MS: int(100, 60_000).default(10_000),
});

const SECRETS = ["SUMSUB_APP_TOKEN", "SUMSUB_SECRET_KEY", "SUMSUB_WEBHOOK_SECRET"] as const;

/** Parses the SUMSUB_* variables; every problem is "VARIABLE: rule", never the value. */
export function parseKycSettings(env: NodeJS.ProcessEnv): { settings?: KycSettings; problems: string[] } {
  const parsed = KycEnv.safeParse(env);
  if (!parsed.success) return { problems: envProblems(parsed.error) };
  const e = parsed.data;
  const missing = SECRETS.filter((name) => !e[name]);
  if (missing.length === SECRETS.length) return { problems: [] };
  if (missing.length) {
    return { problems: [`${missing.join(", ")}: required with ${SECRETS.filter((name) => e[name]).join(", ")} (set all three Sumsub secrets to enable KYC, or none)`] };
  }
  return {
    problems: [],
    settings: {
      baseUrl: e.SUMSUB_BASE_URL,
      appToken: new Secret(e.SUMSUB_APP_TOKEN!),
      secretKey: new Secret(e.SUMSUB_SECRET_KEY!),
      webhookSecret: new Secret(e.SUMSUB_WEBHOOK_SECRET!),
      levelName: e.SUMSUB_LEVEL_NAME,
      tokenTtlSeconds: e.SUMSUB_TOKEN_TTL_SECONDS,
      timeoutMs: e.SUMSUB_TIMEOUT_MS,
    },
  };
}
