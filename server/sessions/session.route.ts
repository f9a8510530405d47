import express from "express";
import type { Orm, Em } from "../db/orm";
import type { Services } from "../services";
import { DomainError, UnauthenticatedError, ValidationError } from "../common/errors";
import type { RateLimiter, Caller } from "../common/rate-limit";
import { rateLimitVerdict } from "../graphql/admission";
import { Agent } from "../agents/agent.entity";
import { Operator } from "../operators/operator.entity";
import { Mode } from "../common/mode";
import { clearSessionCookie, sessionTokenFrom, setSessionCookie } from "./session.cookie";
import { CSRF_HEADER, csrfTokenProblem, type SignedIn } from "./session.service";

export const SESSION_PATH = "/auth/session";

/** What POST and GET /auth/session answer: who is signed in, and the token mutations must echo in X-CSRF-Token. */
export interface SessionBody {
  role: "agent" | "operator" | "admin";
  id: string;
  name: string;
  mode: "test" | "live";
  csrf_token: string;
  expires_at: string;
}

/**
 * The web app's sign-in, at /auth/session:
 *  - POST `{ "api_key": "ho_..." }` exchanges a key for a session cookie
 *    (humanops_session: httpOnly, SameSite=Lax) and answers who signed in:
 *    an agent, an operator, or a platform admin (an ho_admin_ key, whose
 *    session may use the admin operations only, as the key may);
 *  - GET answers the same for the cookie's session (401 when there is none);
 *  - DELETE (with X-CSRF-Token) signs the session out everywhere: 204.
 * Failures answer in the REST error shape (the fallbacks in app.ts). Every
 * call spends a point of the caller's rate budget: the signed-in key's, or
 * the client address's.
 */
export function mountSessions(app: express.Express, deps: { orm: Orm; services: Services; limiter: RateLimiter }): void {
  const { orm, services, limiter } = deps;
  const router = express.Router();
  const clientAddress = (req: express.Request): Caller => ({ address: req.ip ?? req.socket.remoteAddress ?? "unknown" });
  const spend = async (res: express.Response, caller: Caller) => {
    const limited = rateLimitVerdict(res, await limiter.spend(caller));
    if (limited) throw limited;
  };
  const respond = async (res: express.Response, em: Em, signedIn: SignedIn) => {
    res.set("Cache-Control", "no-store").json(await sessionBody(em, signedIn));
  };
  /** The cookie's session, or undefined (and the cookie cleared) when it has none that still signs in. */
  const current = async (req: express.Request, res: express.Response, em: Em): Promise<SignedIn | undefined> => {
    const token = sessionTokenFrom(req.headers);
    if (!token) return undefined;
    try {
      return await services.sessions.authenticate(em, token);
    } catch (err) {
      if (!(err instanceof UnauthenticatedError)) throw err;
      clearSessionCookie(req, res);
      return undefined;
    }
  };
  /** The cookie's session (see `current`), once the request has spent a point of its budget (the key's, or the address's). */
  const admit = async (req: express.Request, res: express.Response): Promise<{ em: Em; signedIn?: SignedIn }> => {
    const em = orm.em.fork();
    const signedIn = await current(req, res, em);
    await spend(res, signedIn ? sessionCaller(signedIn) : clientAddress(req));
    return { em, signedIn };
  };

  // Express 5 hands a rejected handler's error to the error handlers (the REST-shaped fallback in app.ts).
  router.post(
    "/",
    (req, _res, next) => {
      // Only JSON is read: a cross-site form (text/plain, urlencoded) cannot sign a browser in to someone else's account.
      next(req.is("application/json") ? undefined : new DomainError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json (got ${req.get("Content-Type") ?? "none"})`));
    },
    express.json({ limit: 4_096 }),
    async (req, res) => {
      await spend(res, clientAddress(req));
      const apiKey = (req.body as { api_key?: unknown } | undefined)?.api_key;
      if (typeof apiKey !== "string" || !apiKey) throw new ValidationError("api_key", "is required: the API key to sign in with (ho_test_..., ho_live_..., or an admin's ho_admin_...)");
      const em = orm.em.fork();
      const { token, signedIn } = await services.sessions.signIn(em, apiKey.trim());
      setSessionCookie(req, res, token, signedIn.endsAt, services.sessions.clock.now());
      await respond(res, em, signedIn);
    },
  );

  router.get("/", async (req, res) => {
    const { em, signedIn } = await admit(req, res);
    if (!signedIn) throw new UnauthenticatedError("not signed in: POST /auth/session with { \"api_key\": \"ho_...\" } first");
    await respond(res, em, signedIn);
  });

  router.delete("/", async (req, res) => {
    const { em, signedIn } = await admit(req, res);
    if (signedIn) {
      const problem = csrfTokenProblem(signedIn, req.get(CSRF_HEADER));
      if (problem) throw problem;
      await services.sessions.signOut(em, signedIn.sessionId);
      clearSessionCookie(req, res);
    }
    // Signing out of a session that already ended is done as well.
    res.status(204).end();
  });

  app.use(SESSION_PATH, router);
}

/** The rate budget a session's requests spend: its key's, or its admin's (as with the admin key itself). */
export function sessionCaller(signedIn: SignedIn): Caller {
  return signedIn.principal ? { key: { id: signedIn.principal.keyId, mode: signedIn.principal.mode } } : { key: { id: `admin:${signedIn.admin.adminId}`, mode: Mode.LIVE } };
}

async function sessionBody(em: Em, signedIn: SignedIn): Promise<SessionBody> {
  const { principal } = signedIn;
  if (!principal) {
    const expires = signedIn.expiresAt.toISOString();
    return { role: "admin", id: signedIn.admin.adminId, name: signedIn.admin.name, mode: "live", csrf_token: signedIn.csrfToken, expires_at: expires };
  }
  const [role, id] = principal.kind === "agent" ? (["agent", principal.agentId] as const) : (["operator", principal.operatorId] as const);
  const owner = await em.findOneOrFail(role === "agent" ? Agent : Operator, { id }, { fields: ["name"] });
  return { role, id, name: owner.name, mode: principal.mode === "LIVE" ? "live" : "test", csrf_token: signedIn.csrfToken, expires_at: signedIn.expiresAt.toISOString() };
}
