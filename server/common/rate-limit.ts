import Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { DomainError } from "./errors";
import type { Logger } from "./logger";
import { Mode } from "./mode";

export interface RateLimits {
  /** Points per minute for a test key, a live key, and a client address without a key. */
  test: number;
  live: number;
  anonymous: number;
  /** Accounts (registerAgent, registerOperator) one client address may create per hour. */
  registrationsPerHour: number;
}

/** Whose budget a request draws on: an authenticated key (by its id), or a client address without a key. */
export type Caller = { key: { id: string; mode: Mode } } | { address: string };

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the budget is whole again. */
  resetAt: number;
}

export class RateLimitedError extends DomainError {
  constructor(decision: RateLimitDecision, what: string) {
    const retryAfter = retryAfterSeconds(decision);
    super("RATE_LIMITED", `rate limit of ${decision.limit} ${what} exceeded; retry after ${retryAfter} s`, undefined, { retryAfterSeconds: retryAfter });
  }
}

export function retryAfterSeconds(decision: RateLimitDecision): number {
  return Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000));
}

interface Budget {
  limiter: RateLimiterAbstract;
  limit: number;
}

/**
 * Per-caller budgets (rate-limiter-flexible), in this process's memory or,
 * with Redis, shared by every replica of the deployment (keys are
 * namespaced under its id, server/db/deployment.entity.ts). A request costs
 * 1 point and every mutation field it executes 1 more, so aliases cannot
 * multiply what one request does. Registrations draw on their own,
 * stricter, hourly budget per client address. While Redis is unreachable
 * each replica keeps counting alone (an outage of Redis is not an outage
 * of the API, nor the end of the limits).
 */
export class RateLimiter {
  private readonly perMinute: Record<"test" | "live" | "anonymous", Budget>;
  private readonly registrations: Budget;

  constructor(
    limits: RateLimits,
    private readonly log: Logger,
    private readonly store?: { redis: Redis; deploymentId: string },
  ) {
    this.perMinute = {
      test: this.budget("rate-limit", limits.test, 60),
      live: this.budget("rate-limit", limits.live, 60),
      anonymous: this.budget("rate-limit", limits.anonymous, 60),
    };
    this.registrations = this.budget("registrations", limits.registrationsPerHour, 3_600);
  }

  /** Spends `points` of the caller's per-minute budget; not allowed (and nothing spent beyond it) once it is used up. */
  spend(caller: Caller, points = 1): Promise<RateLimitDecision> {
    const budget = "key" in caller ? this.perMinute[caller.key.mode === Mode.LIVE ? "live" : "test"] : this.perMinute.anonymous;
    return this.consume(budget, callerId(caller), points);
  }

  /** Spends one account creation from the hourly budget of `caller` (its client address, when known). */
  spendRegistration(caller: Caller): Promise<RateLimitDecision> {
    return this.consume(this.registrations, callerId(caller), 1);
  }

  async close(): Promise<void> {
    await this.store?.redis.quit().catch(() => this.store?.redis.disconnect());
  }

  private budget(name: string, points: number, duration: number): Budget {
    if (!this.store) return { limiter: new RateLimiterMemory({ keyPrefix: name, points, duration }), limit: points };
    const limiter = new RateLimiterRedis({
      storeClient: this.store.redis,
      keyPrefix: `humanops:${this.store.deploymentId}:${name}`,
      points,
      duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
    });
    return { limiter, limit: points };
  }

  private async consume(budget: Budget, key: string, points: number): Promise<RateLimitDecision> {
    const decide = (res: RateLimiterRes, allowed: boolean) => ({ allowed, limit: budget.limit, remaining: Math.max(0, res.remainingPoints), resetAt: Date.now() + res.msBeforeNext });
    try {
      return decide(await budget.limiter.consume(key, points), true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return decide(rejection, false);
      // Only reached if the insurance limiter itself failed.
      this.log.warn({ err: rejection }, "rate limit budget unavailable; request allowed");
      return { allowed: true, limit: budget.limit, remaining: budget.limit, resetAt: Date.now() + 60_000 };
    }
  }
}

function callerId(caller: Caller): string {
  return "key" in caller ? `key:${caller.key.id}` : `address:${caller.address}`;
}

export function createRateLimiter(limits: RateLimits, redisUrl: string | undefined, deploymentId: string, log: Logger): RateLimiter {
  if (!redisUrl) return new RateLimiter(limits, log);
  // Fail fast while disconnected: the in-memory insurance budget then counts instead of requests waiting.
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 });
  redis.on("error", (err: Error) => log.warn({ err: err.message }, "rate limit Redis connection failed"));
  return new RateLimiter(limits, log, { redis, deploymentId });
}

/**
 * The budgets one request draws on: its caller's per-minute points and, for
 * an account creation, the registration budget of the client address.
 */
export class RequestBudget {
  constructor(
    private readonly limiter: RateLimiter,
    readonly caller: Caller,
    /** Whose registration budget an account creation draws on: the client address when known. */
    private readonly registrant: Caller,
  ) {}

  /** Spends the request's own point; the transport refuses it (429) when not allowed. */
  admit(): Promise<RateLimitDecision> {
    return this.limiter.spend(this.caller, 1);
  }

  /** Spends one point for an executed mutation field (an account creation from the registration budget); throws RATE_LIMITED when spent out. */
  async spendMutation(isRegistration: boolean): Promise<void> {
    const decision = isRegistration ? await this.limiter.spendRegistration(this.registrant) : await this.limiter.spend(this.caller, 1);
    if (!decision.allowed) throw new RateLimitedError(decision, isRegistration ? "accounts per hour from one address" : "requests per minute (every mutation counts as one more)");
  }
}
