import { defaultFieldResolver, type GraphQLSchema } from "graphql";
import type express from "express";
import { UnauthenticatedError, type DomainError } from "../common/errors";
import { RateLimitedError, retryAfterSeconds, type RateLimitDecision } from "../common/rate-limit";
import { apiKeyFrom, type ContextFactory } from "./context";
import type { Context } from "./context";
import { clearSessionCookie, sessionTokenFrom } from "../sessions/session.cookie";
import { CSRF_HEADER, csrfTokenProblem } from "../sessions/session.service";

/** Mutations that create an account: they draw on the stricter registration budget of the client address. */
const REGISTRATIONS = new Set(["registerAgent", "registerOperator"]);

/** Methods a browser lets any page send cross-site; everything else needs the session's CSRF token. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The gate in front of /graphql, /api/v1 and /mcp, in this order: a key
 * that is presented must be a valid one (401 in the transport's shape,
 * before any budget is touched or anything runs); without a key, and where
 * `sessions` allows, the web app's session cookie names the caller (a
 * cookie that no longer signs in is cleared and the request goes on without
 * a caller), and any request other than GET/HEAD/OPTIONS must then carry
 * the session's X-CSRF-Token (403 CSRF_TOKEN_INVALID); then the request spends 1
 * point of its caller's budget (the key's, or the client address's without
 * one), 429 when it is spent out. Sets X-RateLimit-Limit / -Remaining /
 * -Reset (and Retry-After on a 429) and leaves the request's Context for
 * the transport (admittedContext).
 */
export function admission(createContext: ContextFactory, refuse: (res: express.Response, err: DomainError) => void, options: { sessions?: boolean } = {}): express.RequestHandler {
  return async (req, res, next) => {
    try {
      const apiKey = apiKeyFrom(req.headers);
      const sessionToken = !apiKey && options.sessions ? sessionTokenFrom(req.headers) : undefined;
      // req.ip honours TRUST_PROXY: behind a load balancer, the client's address rather than the balancer's.
      const ctx = await createContext(apiKey, req.ip ?? req.socket.remoteAddress ?? "unknown", sessionToken);
      if (apiKey && !ctx.principal && !ctx.admin) return refuse(res, ctx.authError ?? new UnauthenticatedError());
      if (sessionToken && !ctx.session) clearSessionCookie(req, res);
      const csrfProblem = ctx.session && !SAFE_METHODS.has(req.method) ? csrfTokenProblem(ctx.session, req.get(CSRF_HEADER)) : undefined;
      if (csrfProblem) return refuse(res, csrfProblem);
      const limited = rateLimitVerdict(res, await ctx.budget!.admit());
      if (limited) return refuse(res, limited);
      res.locals.context = ctx;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Sets X-RateLimit-Limit / -Remaining / -Reset (and Retry-After when refused); the error to refuse with when the budget is spent out. */
export function rateLimitVerdict(res: express.Response, decision: RateLimitDecision): RateLimitedError | undefined {
  // setHeader: what res.set does for a string value that is not Content-Type, without its checks on every request.
  res.setHeader("X-RateLimit-Limit", String(decision.limit));
  res.setHeader("X-RateLimit-Remaining", String(decision.remaining));
  res.setHeader("X-RateLimit-Reset", String(Math.ceil(decision.resetAt / 1000)));
  if (decision.allowed) return undefined;
  res.setHeader("Retry-After", String(retryAfterSeconds(decision)));
  return new RateLimitedError(decision, "requests per minute");
}

/** The Context `admission` built for this request. */
export function admittedContext(res: express.Response): Context {
  const ctx = res.locals.context as Context | undefined;
  if (!ctx) throw new Error("the request was not admitted: mount admission() in front of this route");
  return ctx;
}

/**
 * Makes every executed mutation field spend from the caller's budget before
 * it runs (an account creation from the registration budget), so aliases
 * cannot multiply what one request does. Fields run one after another, so
 * the ones past the budget fail with RATE_LIMITED and do nothing.
 */
export function chargeMutations(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    const isRegistration = REGISTRATIONS.has(field.name);
    field.resolve = async (source, args, ctx: Context, info) => {
      await ctx.budget?.spendMutation(isRegistration);
      return resolve(source, args, ctx, info);
    };
  }
  return schema;
}
