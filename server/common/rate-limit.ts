import { createHash } from "node:crypto";
import type express from "express";
import Redis from "ioredis";
import type { Logger } from "./logger";

const WINDOW_MS = 60_000;

/** Requests counted in the current window for one caller. */
export interface RateLimitCounter {
  /** Counts one request in the window starting at `windowStart`; resolves with the count so far, this one included. */
  increment(caller: string, windowStart: number): Promise<number>;
  close(): Promise<void>;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the window resets. */
  resetAt: number;
}

/** In-process fixed windows; every caller's count lives until its window ends. */
export class MemoryRateLimitCounter implements RateLimitCounter {
  private window = 0;
  private counts = new Map<string, number>();

  async increment(caller: string, windowStart: number): Promise<number> {
    if (windowStart !== this.window) {
      this.window = windowStart;
      this.counts = new Map();
    }
    const count = (this.counts.get(caller) ?? 0) + 1;
    this.counts.set(caller, count);
    return count;
  }

  async close(): Promise<void> {}
}

/** Fixed windows in Redis (INCR + PEXPIRE), so every replica draws on one budget per caller. */
export class RedisRateLimitCounter implements RateLimitCounter {
  private readonly redis: Redis;

  constructor(
    url: string,
    /** Keys are this deployment's (server/db/deployment.entity.ts): deployments sharing a Redis keep separate budgets. */
    private readonly deploymentId: string,
    log: Logger,
  ) {
    // Fail fast while disconnected: the limiter then lets requests through instead of making them wait.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
    this.redis.on("error", (err: Error) => log.warn({ err: err.message }, "rate limit Redis connection failed"));
  }

  async increment(caller: string, windowStart: number): Promise<number> {
    const key = `humanops:${this.deploymentId}:rate-limit:${caller}:${windowStart}`;
    const results = await this.redis.multi().incr(key).pexpire(key, WINDOW_MS * 2).exec();
    const [error, count] = results?.[0] ?? [new Error("the Redis transaction was discarded"), 0];
    if (error) throw error;
    return Number(count);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export interface RateLimits {
  test: number;
  live: number;
  anonymous: number;
}

/**
 * Per-minute limits per API key (a test key's budget is lower than a live
 * key's) and per client address for calls without a key. One budget per
 * caller across the GraphQL, REST and MCP endpoints. The caller is
 * identified by a hash of the key as presented, so no database lookup is
 * spent on a request that is over its limit. If the counter is unreachable
 * the request is let through and the failure logged: an outage of Redis
 * must not become an outage of the API.
 */
export class RateLimiter {
  constructor(
    private readonly counter: RateLimitCounter,
    private readonly limits: RateLimits,
    private readonly log: Logger,
  ) {}

  async check(apiKey: string | undefined, clientAddress: string, now = Date.now()): Promise<RateLimitDecision> {
    const { caller, limit } = this.callerOf(apiKey, clientAddress);
    const windowStart = now - (now % WINDOW_MS);
    const resetAt = windowStart + WINDOW_MS;
    let count: number;
    try {
      count = await this.counter.increment(caller, windowStart);
    } catch (err) {
      this.log.warn({ err }, "rate limit counter unavailable; request allowed");
      return { allowed: true, limit, remaining: limit, resetAt };
    }
    return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetAt };
  }

  close(): Promise<void> {
    return this.counter.close();
  }

  private callerOf(apiKey: string | undefined, clientAddress: string): { caller: string; limit: number } {
    if (!apiKey) return { caller: `address:${clientAddress}`, limit: this.limits.anonymous };
    const caller = `key:${createHash("sha256").update(apiKey).digest("hex").slice(0, 32)}`;
    return { caller, limit: apiKey.startsWith("ho_live_") ? this.limits.live : this.limits.test };
  }
}

export function createRateLimiter(limits: RateLimits, redisUrl: string | undefined, deploymentId: string, log: Logger): RateLimiter {
  return new RateLimiter(redisUrl ? new RedisRateLimitCounter(redisUrl, deploymentId, log) : new MemoryRateLimitCounter(), limits, log);
}

/**
 * Express middleware counting each request against its caller's budget.
 * Sets X-RateLimit-Limit / -Remaining / -Reset; over the limit it sets
 * Retry-After and lets `refuse` answer in the endpoint's own error shape.
 */
export function rateLimitMiddleware(
  limiter: RateLimiter,
  apiKeyOf: (req: express.Request) => string | undefined,
  refuse: (res: express.Response, message: string) => void,
): express.RequestHandler {
  return async (req, res, next) => {
    const decision = await limiter.check(apiKeyOf(req), req.ip ?? req.socket.remoteAddress ?? "unknown");
    res.set({
      "X-RateLimit-Limit": String(decision.limit),
      "X-RateLimit-Remaining": String(decision.remaining),
      "X-RateLimit-Reset": String(Math.ceil(decision.resetAt / 1000)),
    });
    if (decision.allowed) return next();
    const retryAfter = Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000));
    res.set("Retry-After", String(retryAfter));
    refuse(res, `rate limit of ${decision.limit} requests per minute exceeded; retry after ${retryAfter} s`);
  };
}
