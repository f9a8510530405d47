import type { EvidenceRules } from "./guardian/guardian.checks";
import path from "node:path";
import { z } from "zod";
import { envInt as int, envProblems } from "./common/env";
import { parseChainSettings, type ChainSettings } from "./chain/chain.config";
import type { SpendCapsConfig } from "./agents/spend-caps";
import os from "node:os";
import { parseKycSettings, type KycSettings } from "./kyc/kyc.config";
import { parsePhotoSettings, type PhotoSettings } from "./photos/photo.config";
import { ACCEPT_WINDOW_MINUTES, MAX_PHOTOS_PER_PROOF, MAX_PROOF_ATTEMPTS } from "./tasks/task.limits";
import type { RateLimits } from "./common/rate-limit";

/**
 * All configuration comes from environment variables, validated once at
 * start. With nothing set HumanOps runs embedded: SQLite under ./data, test
 * mode, port 4000.
 */
export type DatabaseConfig =
  | { kind: "sqlite"; path: string }
  | { kind: "postgresql"; url: string };

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  redisUrl?: string;
  /** Names this deployment in Redis instead of the id its database holds (a database restored from another deployment's backup carries that one's id). */
  deploymentId?: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /**
   * Guardian: a score >= approveAt verifies, < rejectBelow rejects, in
   * between goes to manual review. Photos are decoded by sharp, at most
   * decodeThreads at once, and refused above maxMegapixels. With `vision` set, a
   * vision model (the Anthropic Messages API) also scores proof that passes
   * the offline checks.
   */
  guardian: {
    approveAt: number;
    rejectBelow: number;
    decodeThreads: number;
    /** Decode in a child process of lower CPU priority (photo.process.ts), so decoding yields the cores to the API; false (the default): in the server process. */
    decodeProcess: boolean;
    maxMegapixels: number;
    /** The evidence checks: a photo's GPS within passWithinM of the task passes, beyond failBeyondM fails; capture times may be off by clockSkewS. */
    evidence: EvidenceRules;
    vision?: { apiKey: string; url: string; model: string; timeoutMs: number; maxRetries: number };
  };
  /** Platform fee charged on top of the reward, in basis points. */
  feeBps: number;
  tasks: {
    maxRewardUnits: bigint;
    minRewardUnits: bigint;
    maxDeadlineDays: number;
    defaultMaxAttempts: number;
    /** Minutes an operator may hold an accepted task without proof, unless the task says otherwise. */
    defaultAcceptWindowMinutes: number;
  };
  testMode: {
    /** Delay between the mock operator's steps, so a watcher sees each state. */
    stepDelayMs: number;
    /** Test USDC credited to every new agent's test balance. */
    startingBalanceUnits: bigint;
  };
  worker: { pollMs: number; concurrency: number; lockMs: number };
  /** Pruning what the process no longer needs (server/jobs/retention.ts); ages in milliseconds. */
  retention: { intervalMs: number; batch: number; jobsMs: number; webhookDeliveriesMs: number; idempotencyMs: number; sessionsMs: number };
  limits: { jsonBodyBytes: number; photoBytes: number; photosPerProof: number };
  /** The REST API's JSON body limit. */
  rest: { jsonBodyBytes: number };
  /**
   * Points per minute per API key (per client address without a key), one
   * budget across /graphql, /api/v1 and /mcp: a request is 1 point and each
   * mutation it executes 1 more. Accounts created per client address and hour.
   */
  rateLimits: RateLimits;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For names the client address (false: none). */
  trustProxy: boolean | number | string;
  /** Live updates: how each replica follows the task event log and feeds its WebSocket subscribers. */
  live: {
    /** Read the log at least this often, for changes made on other replicas when no notice arrives. */
    pollMs: number;
    /** How long a missing event id may hold back later ones (a transaction still committing it) before it is passed over. */
    gapMaxHoldMs: number;
    /** How often open connections' API keys are checked for revocation. */
    keyRecheckMs: number;
    /** How often open connections are pinged; one that has not answered the last ping by the next is ended. */
    heartbeatMs: number;
    /** Events a subscriber may fall behind by before its subscription is ended (it can resume from its last event id). */
    maxQueuedEvents: number;
  };
  webhooks: {
    timeoutMs: number;
    /** Retries back off exponentially from retryBaseMs up to retryMaxMs, with jitter, until retryWindowMs after the event. */
    retryBaseMs: number;
    retryMaxMs: number;
    retryWindowMs: number;
    concurrency: number;
    pollMs: number;
    /** Test-mode endpoints may be http://127.0.0.1 (a local receiver; off by default with NODE_ENV=production); live mode is always https to public addresses. */
    allowLoopbackInTestMode: boolean;
  };
  /** Server-side secret mixed into API key hashes; keys are unusable without it. */
  apiKeyPepper: string;
  /**
   * How long a replica trusts the caller it resolved from a key without
   * asking the database again (0: every request asks). A revocation reaches
   * the other replicas over Redis at once; this bounds it when Redis is absent
   * or a notice is lost.
   */
  apiKeyCacheMs: number;
  /** Where each mode's money settles (server/chain/chain.config.ts). */
  chain: ChainSettings;
  /** Caps on the live money an agent may commit. */
  spendCaps: SpendCapsConfig;
  /** Operator KYC through Sumsub (server/kyc/kyc.config.ts); undefined: not configured. */
  kyc?: KycSettings;
  /** Where proof photos live, the decode budget and photo URL lifetime (server/photos/photo.config.ts). */
  photos: PhotoSettings;
  /** The web app's browser sessions (server/sessions/): an API key exchanged for a cookie. */
  sessions: {
    /** A session unused this long is signed out. */
    idleMs: number;
    /** A session ends this long after sign-in, however often it is used. */
    maxAgeMs: number;
  };
  /** The web app served at / (server/web/). */
  web: {
    /** Its built files (index.html, assets/); absent until `npm run build`. */
    distDir: string;
    /** The map's tile URL template ({z}/{x}/{y}, optionally {s}); its origin is allowed for images by the Content-Security-Policy. */
    mapTileUrl: string;
    /** The Sumsub WebSDK script the KYC screen loads; its origin is allowed for scripts and frames. */
    sumsubWebSdkUrl: string;
    /** Origins besides the server's own whose pages may open graphql-ws with the session cookie (e.g. a development server). */
    allowedOrigins: string[];
  };
}

class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** false | true | hops | "loopback, 10.0.0.0/8, ..." (Express's `trust proxy` values). */
const TRUST_PROXY = /^(false|true|\d{1,2}|(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?))*)$/;

function trustProxySetting(value: string): boolean | number | string {
  if (value === "true" || value === "false") return value === "true";
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** A comma-separated list of origins, e.g. "https://app.example.com, http://localhost:5173". */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
const originList = z
  .string()
  .default("")
  .transform((value) => value.split(",").map((origin) => origin.trim()).filter(Boolean))
  .refine((origins) => origins.every((origin) => ORIGIN.test(origin)), "must be a comma-separated list of origins like https://app.example.com (scheme, host and port only)");

const httpUrl = (example: string) => z.string().regex(/^https?:\/\/[^\s/]+\/[^\s]*$/, `must be an http:// or https:// URL, e.g. ${example}`);

const usd = z
  .string()
  .regex(/^\d+(\.\d{1,6})?$/, "must be a USD amount with at most 6 decimals")
  .transform((v) => {
    const [whole, fraction = ""] = v.split(".");
    return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
  });

const EnvSchema = z
  .object({
    PORT: int(0, 65_535).default(4000),
    HOST: z.string().min(1).default("0.0.0.0"),
    DATABASE_URL: z.string().min(1).default("./data/humanops.db"),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    DEPLOYMENT_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1 to 64 letters, digits, - or _")
      .optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    GUARDIAN_APPROVE_AT: int(1, 100).default(90),
    GUARDIAN_REJECT_BELOW: int(0, 100).default(50),
    GUARDIAN_DECODE_THREADS: int(1, 64).default(Math.max(1, Math.min(4, os.availableParallelism() - 1))),
    GUARDIAN_DECODE_PROCESS: z.enum(["true", "false"], { error: "must be true or false" }).default("true"),
    GUARDIAN_MAX_MEGAPIXELS: int(1, 200).default(50),
    GUARDIAN_LOCATION_PASS_M: int(1, 1_000_000).default(300),
    GUARDIAN_LOCATION_FAIL_M: int(1, 20_000_000).default(2_000),
    GUARDIAN_CLOCK_SKEW_S: int(0, 86_400).default(300),
    GUARDIAN_VISION_API_KEY: z.string().min(1, "must not be empty (unset it to score offline only)").optional(),
    GUARDIAN_VISION_URL: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, "must be an http:// or https:// URL").default("https://api.anthropic.com"),
    GUARDIAN_VISION_MODEL: z.string().regex(/^[\w.:@-]{1,64}$/, "must be a model id of at most 64 letters, digits and . _ - : @").default("claude-sonnet-4-5"),
    GUARDIAN_VISION_TIMEOUT_MS: int(1_000, 600_000).default(60_000),
    GUARDIAN_VISION_MAX_RETRIES: int(0, 10).default(2),
    // TaskEscrow caps the fee at 20% of what it holds (reward + fee): 2500 bps of the reward.
    PLATFORM_FEE_BPS: int(0, 2_500).default(1_000),
    TASK_MIN_REWARD_USD: usd.prefault("0.01"),
    TASK_MAX_REWARD_USD: usd.prefault("10000"),
    TASK_MAX_DEADLINE_DAYS: int(1, 365).default(90),
    TASK_MAX_ATTEMPTS: int(1, MAX_PROOF_ATTEMPTS).default(3),
    TASK_ACCEPT_WINDOW_MINUTES: int(ACCEPT_WINDOW_MINUTES.min, ACCEPT_WINDOW_MINUTES.max).default(120),
    TEST_MODE_STEP_MS: int(0, 60_000).default(1_000),
    TEST_MODE_STARTING_BALANCE_USD: usd.prefault("10000"),
    WORKER_POLL_MS: int(5, 60_000).default(1_000),
    WORKER_CONCURRENCY: int(1, 64).default(4),
    WORKER_LOCK_MS: int(1_000, 3_600_000).default(60_000),
    RETENTION_INTERVAL_MS: int(100, 86_400_000).default(600_000),
    RETENTION_BATCH: int(1, 10_000).default(500),
    RETENTION_JOBS_S: int(0, 3_650 * 86_400).default(7 * 86_400),
    RETENTION_WEBHOOK_DELIVERIES_S: int(0, 3_650 * 86_400).default(30 * 86_400),
    RETENTION_IDEMPOTENCY_S: int(0, 3_650 * 86_400).default(0),
    RETENTION_SESSIONS_S: int(0, 3_650 * 86_400).default(86_400),
    MAX_JSON_BODY_BYTES: int(1_024, 100 * 1024 * 1024).default(20 * 1024 * 1024),
    MAX_PHOTO_BYTES: int(1_024, 50 * 1024 * 1024).default(8 * 1024 * 1024),
    MAX_PHOTOS_PER_PROOF: int(1, MAX_PHOTOS_PER_PROOF).default(10),
    REST_MAX_JSON_BODY_BYTES: int(1_024, 10 * 1024 * 1024).default(64 * 1024),
    RATE_LIMIT_TEST_PER_MINUTE: int(1, 1_000_000).default(120),
    RATE_LIMIT_LIVE_PER_MINUTE: int(1, 1_000_000).default(600),
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(1, 1_000_000).default(30),
    RATE_LIMIT_REGISTRATIONS_PER_HOUR: int(1, 1_000_000).default(10),
    TRUST_PROXY: z
      .string()
      .regex(TRUST_PROXY, "must be false, true, a number of proxy hops, or a comma-separated list of addresses, subnets (CIDR) or loopback / linklocal / uniquelocal")
      .default("false")
      .transform(trustProxySetting),
    LIVE_POLL_MS: int(10, 60_000).default(1_000),
    LIVE_GAP_MAX_HOLD_MS: int(0, 600_000).default(10_000),
    LIVE_KEY_RECHECK_MS: int(10, 3_600_000).default(5_000),
    LIVE_HEARTBEAT_MS: int(10, 600_000).default(12_000),
    LIVE_MAX_QUEUED_EVENTS: int(10, 100_000).default(1_000),
    WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5_000),
    WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(30_000),
    WEBHOOK_RETRY_MAX_MS: int(10, 86_400_000).default(3_600_000),
    WEBHOOK_RETRY_WINDOW_MS: int(0, 7 * 86_400_000).default(86_400_000),
    WEBHOOK_CONCURRENCY: int(1, 256).default(8),
    WEBHOOK_POLL_MS: int(10, 60_000).default(1_000),
    WEBHOOK_ALLOW_LOOPBACK_IN_TEST_MODE: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
    API_KEY_PEPPER: z.string().min(16, "must be at least 16 characters").optional(),
    API_KEY_CACHE_MS: int(0, 60_000).default(5_000),
    SPEND_CAP_TASK_USD: usd.prefault("1000"),
    SPEND_CAP_DAY_USD: usd.prefault("5000"),
    NEW_ACCOUNT_DAYS: int(0, 365).default(7),
    NEW_ACCOUNT_SPEND_CAP_TASK_USD: usd.prefault("100"),
    NEW_ACCOUNT_SPEND_CAP_DAY_USD: usd.prefault("250"),
    SESSION_IDLE_TIMEOUT_S: int(1, 31_536_000).default(3 * 86_400),
    SESSION_MAX_AGE_S: int(1, 31_536_000).default(30 * 86_400),
    WEB_DIST_DIR: z.string().min(1).default("dist/web"),
    WEB_MAP_TILE_URL: httpUrl("https://tile.openstreetmap.org/{z}/{x}/{y}.png").default("https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    SUMSUB_WEBSDK_URL: httpUrl("https://static.sumsub.com/idensic/static/sns-websdk-builder.js").default("https://static.sumsub.com/idensic/static/sns-websdk-builder.js"),
    WEB_ALLOWED_ORIGINS: originList,
    NODE_ENV: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.GUARDIAN_LOCATION_PASS_M > env.GUARDIAN_LOCATION_FAIL_M) {
      ctx.addIssue({ code: "custom", path: ["GUARDIAN_LOCATION_PASS_M"], message: "must not be more than GUARDIAN_LOCATION_FAIL_M" });
    }
    if (env.GUARDIAN_REJECT_BELOW > env.GUARDIAN_APPROVE_AT) {
      ctx.addIssue({
        code: "custom",
        path: ["GUARDIAN_REJECT_BELOW"],
        message: `must not exceed GUARDIAN_APPROVE_AT (${env.GUARDIAN_APPROVE_AT})`,
      });
    }
    if (env.TASK_MIN_REWARD_USD > env.TASK_MAX_REWARD_USD) {
      ctx.addIssue({ code: "custom", path: ["TASK_MIN_REWARD_USD"], message: "must not exceed TASK_MAX_REWARD_USD" });
    }
    if (env.WEBHOOK_RETRY_BASE_MS > env.WEBHOOK_RETRY_MAX_MS) {
      ctx.addIssue({ code: "custom", path: ["WEBHOOK_RETRY_BASE_MS"], message: "must not exceed WEBHOOK_RETRY_MAX_MS" });
    }
    for (const [cap, limit] of [
      ["NEW_ACCOUNT_SPEND_CAP_TASK_USD", "SPEND_CAP_TASK_USD"],
      ["NEW_ACCOUNT_SPEND_CAP_DAY_USD", "SPEND_CAP_DAY_USD"],
      ["SPEND_CAP_TASK_USD", "SPEND_CAP_DAY_USD"],
    ] as const) {
      if (env[cap] > env[limit]) ctx.addIssue({ code: "custom", path: [cap], message: `must not exceed ${limit}` });
    }
    if (env.SESSION_IDLE_TIMEOUT_S > env.SESSION_MAX_AGE_S) {
      ctx.addIssue({ code: "custom", path: ["SESSION_IDLE_TIMEOUT_S"], message: "must not exceed SESSION_MAX_AGE_S" });
    }
    if (env.NODE_ENV === "production" && !env.API_KEY_PEPPER) {
      ctx.addIssue({ code: "custom", path: ["API_KEY_PEPPER"], message: "is required when NODE_ENV=production" });
    }
  });

function parseDatabase(url: string): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgresql", url };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError([`DATABASE_URL: must be a postgres:// URL or a SQLite file path`]);
  }
  return { kind: "sqlite", path: url === ":memory:" ? url : path.resolve(url) };
}

/** An embedded-mode pepper: fine for a laptop, refused in production (see above). */
const DEVELOPMENT_PEPPER = "humanops-development-pepper";

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const chain = parseChainSettings(env);
  const kyc = parseKycSettings(env);
  const photos = parsePhotoSettings(env);
  const problems = [...(parsed.success ? [] : envProblems(parsed.error)), ...chain.problems, ...kyc.problems, ...photos.problems];
  if (!parsed.success || !chain.settings || kyc.problems.length || !photos.settings) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    database: parseDatabase(e.DATABASE_URL),
    redisUrl: e.REDIS_URL,
    deploymentId: e.DEPLOYMENT_ID,
    logLevel: e.LOG_LEVEL,
    guardian: {
      approveAt: e.GUARDIAN_APPROVE_AT,
      rejectBelow: e.GUARDIAN_REJECT_BELOW,
      decodeThreads: e.GUARDIAN_DECODE_THREADS,
      decodeProcess: e.GUARDIAN_DECODE_PROCESS === "true",
      maxMegapixels: e.GUARDIAN_MAX_MEGAPIXELS,
      evidence: { passWithinM: e.GUARDIAN_LOCATION_PASS_M, failBeyondM: e.GUARDIAN_LOCATION_FAIL_M, clockSkewS: e.GUARDIAN_CLOCK_SKEW_S },
      vision: e.GUARDIAN_VISION_API_KEY
        ? { apiKey: e.GUARDIAN_VISION_API_KEY, url: e.GUARDIAN_VISION_URL, model: e.GUARDIAN_VISION_MODEL, timeoutMs: e.GUARDIAN_VISION_TIMEOUT_MS, maxRetries: e.GUARDIAN_VISION_MAX_RETRIES }
        : undefined,
    },
    feeBps: e.PLATFORM_FEE_BPS,
    tasks: {
      minRewardUnits: e.TASK_MIN_REWARD_USD,
      maxRewardUnits: e.TASK_MAX_REWARD_USD,
      maxDeadlineDays: e.TASK_MAX_DEADLINE_DAYS,
      defaultMaxAttempts: e.TASK_MAX_ATTEMPTS,
      defaultAcceptWindowMinutes: e.TASK_ACCEPT_WINDOW_MINUTES,
    },
    testMode: { stepDelayMs: e.TEST_MODE_STEP_MS, startingBalanceUnits: e.TEST_MODE_STARTING_BALANCE_USD },
    worker: { pollMs: e.WORKER_POLL_MS, concurrency: e.WORKER_CONCURRENCY, lockMs: e.WORKER_LOCK_MS },
    retention: {
      intervalMs: e.RETENTION_INTERVAL_MS,
      batch: e.RETENTION_BATCH,
      jobsMs: e.RETENTION_JOBS_S * 1000,
      webhookDeliveriesMs: e.RETENTION_WEBHOOK_DELIVERIES_S * 1000,
      idempotencyMs: e.RETENTION_IDEMPOTENCY_S * 1000,
      sessionsMs: e.RETENTION_SESSIONS_S * 1000,
    },
    limits: {
      jsonBodyBytes: e.MAX_JSON_BODY_BYTES,
      photoBytes: e.MAX_PHOTO_BYTES,
      photosPerProof: e.MAX_PHOTOS_PER_PROOF,
    },
    rest: { jsonBodyBytes: e.REST_MAX_JSON_BODY_BYTES },
    rateLimits: {
      test: e.RATE_LIMIT_TEST_PER_MINUTE,
      live: e.RATE_LIMIT_LIVE_PER_MINUTE,
      anonymous: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      registrationsPerHour: e.RATE_LIMIT_REGISTRATIONS_PER_HOUR,
    },
    trustProxy: e.TRUST_PROXY,
    live: {
      pollMs: e.LIVE_POLL_MS,
      gapMaxHoldMs: e.LIVE_GAP_MAX_HOLD_MS,
      keyRecheckMs: e.LIVE_KEY_RECHECK_MS,
      heartbeatMs: e.LIVE_HEARTBEAT_MS,
      maxQueuedEvents: e.LIVE_MAX_QUEUED_EVENTS,
    },
    webhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      retryWindowMs: e.WEBHOOK_RETRY_WINDOW_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      pollMs: e.WEBHOOK_POLL_MS,
      // Anyone can get a test key: in production a test endpoint on 127.0.0.1 would let it reach the server's own ports.
      allowLoopbackInTestMode: (e.WEBHOOK_ALLOW_LOOPBACK_IN_TEST_MODE ?? String(e.NODE_ENV !== "production")) === "true",
    },
    apiKeyPepper: e.API_KEY_PEPPER ?? DEVELOPMENT_PEPPER,
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    chain: chain.settings,
    spendCaps: {
      perTaskUnits: e.SPEND_CAP_TASK_USD,
      perDayUnits: e.SPEND_CAP_DAY_USD,
      newAccountDays: e.NEW_ACCOUNT_DAYS,
      newAccountPerTaskUnits: e.NEW_ACCOUNT_SPEND_CAP_TASK_USD,
      newAccountPerDayUnits: e.NEW_ACCOUNT_SPEND_CAP_DAY_USD,
    },
    kyc: kyc.settings,
    photos: photos.settings,
    sessions: { idleMs: e.SESSION_IDLE_TIMEOUT_S * 1000, maxAgeMs: e.SESSION_MAX_AGE_S * 1000 },
    web: {
      distDir: path.resolve(e.WEB_DIST_DIR),
      mapTileUrl: e.WEB_MAP_TILE_URL,
      sumsubWebSdkUrl: e.SUMSUB_WEBSDK_URL,
      allowedOrigins: e.WEB_ALLOWED_ORIGINS,
    },
  };
}

export { ConfigError };
