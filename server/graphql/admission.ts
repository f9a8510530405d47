import { defaultFieldResolver, type GraphQLSchema } from "graphql";
import type express from "express";
import { UnauthenticatedError, type DomainError } from "../common/errors";
import { RateLimitedError, retryAfterSeconds } from "../common/rate-limit";
import { apiKeyFrom, type ContextFactory } from "./apollo";
import type { Context } from "./context";

/** Mutations that create an account: they draw on the stricter registration budget of the client address. */
const REGISTRATIONS = new Set(["registerAgent", "registerOperator"]);

/**
 * The gate in front of /graphql, /api/v1 and /mcp, in this order: a key
 * that is presented must be a valid one (401 in the transport's shape,
 * before any budget is touched or anything runs), then the request spends 1
 * point of its caller's budget (the key's, or the client address's without
 * one), 429 when it is spent out. Sets X-RateLimit-Limit / -Remaining /
 * -Reset (and Retry-After on a 429) and leaves the request's Context for
 * the transport (admittedContext).
 */
export function admission(createContext: ContextFactory, refuse: (res: express.Response, err: DomainError) => void): express.RequestHandler {
  return async (req, res, next) => {
    try {
      const apiKey = apiKeyFrom(req.headers);
      // req.ip honours TRUST_PROXY: behind a load balancer, the client's address rather than the balancer's.
      const ctx = await createContext(apiKey, req.ip ?? req.socket.remoteAddress ?? "unknown");
      if (apiKey && !ctx.principal) return refuse(res, ctx.authError ?? new UnauthenticatedError());
      const decision = await ctx.budget!.admit();
      res.set({
        "X-RateLimit-Limit": String(decision.limit),
        "X-RateLimit-Remaining": String(decision.remaining),
        "X-RateLimit-Reset": String(Math.ceil(decision.resetAt / 1000)),
      });
      if (!decision.allowed) {
        res.set("Retry-After", String(retryAfterSeconds(decision)));
        return refuse(res, new RateLimitedError(decision, "requests per minute"));
      }
      res.locals.context = ctx;
      next();
    } catch (err) {
      next(err);
    }
  };
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
