import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { DomainError, UnauthenticatedError } from "../common/errors";
import type { Logger } from "../common/logger";
import { systemClock, type Clock } from "../common/clock";
import { ApiKey } from "../agents/api-key.entity";
import type { ApiKeyService, Principal } from "../agents/api-key.service";
import { enqueue } from "../jobs/job.queue";
import { BrowserSession } from "./browser-session.entity";
import { Admin } from "../admin/admin.entity";
import { isAdminKey, type AdminPrincipal, type AdminService } from "../admin/admin.service";
import { JobKinds } from "../jobs/job.kinds";

export const SessionJobs = JobKinds.sessions;

/** The header a cookie-authenticated request other than GET/HEAD/OPTIONS must carry. */
export const CSRF_HEADER = "X-CSRF-Token";

const HOUR_MS = 3_600_000;
/** The longest a session's last use may lag behind (it bounds how early the idle timeout can strike). */
const TOUCH_EVERY_MS = 60_000;

export interface SessionSettings {
  idleMs: number;
  maxAgeMs: number;
}

/**
 * A session that authenticated a request: whose it is (an agent's or
 * operator's key, or a platform admin) and what the browser must echo back.
 */
export type SignedIn = SessionTimes & ({ principal: Principal; admin?: undefined } | { principal?: undefined; admin: AdminPrincipal });

interface SessionTimes {
  sessionId: string;
  csrfToken: string;
  /** When the session ends if it is not used again (its idle timeout, or its absolute end if sooner). */
  expiresAt: Date;
  /** Its absolute end: the cookie's lifetime. */
  endsAt: Date;
}

export class CsrfTokenInvalidError extends DomainError {
  constructor(problem: string) {
    super("CSRF_TOKEN_INVALID", `${problem}: a request signed in with the session cookie must send the ${CSRF_HEADER} header with the csrf_token from POST or GET /auth/session`, CSRF_HEADER);
  }
}

const SESSION_ENDED = "the session has expired or was signed out; sign in again with an API key (POST /auth/session)";

/**
 * Browser sessions: the web app exchanges an API key once for a random
 * session token kept in an httpOnly cookie, so the key never stays in the
 * browser. Only an HMAC of the token is stored. A session is the key's
 * principal (the same rate budget, the same rights) until it is signed out,
 * idles past `idleMs`, reaches `maxAgeMs`, or its key is revoked; every
 * replica sees the same sessions through the database. The CSRF token is an
 * HMAC of the session token, so it needs no storage, and only the holder of
 * the cookie's value can know it.
 */
export class SessionService {
  private nextSweepAt = 0;

  constructor(
    private readonly pepper: string,
    private readonly settings: SessionSettings,
    private readonly keys: ApiKeyService,
    private readonly admins: AdminService,
    private readonly log: Logger,
    /** Judges idle timeouts and absolute ends (and the cookie's lifetime). */
    readonly clock: Clock = systemClock,
  ) {}

  /**
   * Opens a session for the key's principal, or for the platform admin an
   * admin key (ho_admin_...) names; returns the token for the cookie (never
   * stored) and the session. An admin's session signs in as the admin key
   * does: the admin operations only.
   */
  async signIn(em: Em, apiKey: string): Promise<{ token: string; signedIn: SignedIn }> {
    const owner: Pick<SignedIn, "principal" | "admin"> = isAdminKey(apiKey) ? { admin: await this.admins.authenticate(em, apiKey) } : { principal: await this.keys.authenticate(em, apiKey) };
    const token = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const session = new BrowserSession(
      this.digest("session", token),
      owner.admin ? { admin: em.getReference(Admin, owner.admin.adminId) } : { key: em.getReference(ApiKey, owner.principal!.keyId) },
      now + this.settings.maxAgeMs,
    );
    session.createdAt = now;
    session.lastUsedAt = now;
    em.persist(session);
    await em.flush();
    await this.scheduleSweep(em.fork(), now);
    return { token, signedIn: this.signedIn(session, owner, token) };
  }

  /** The session a cookie's token names; UNAUTHENTICATED when it is unknown, signed out, expired, or its key (or admin) revoked. */
  async authenticate(em: Em, token: string): Promise<SignedIn> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new UnauthenticatedError(SESSION_ENDED);
    const session = await em.findOne(
      BrowserSession,
      { tokenHash: this.digest("session", token) },
      { populate: ["key", "admin"], fields: ["lastUsedAt", "expiresAt", "key.mode", "key.revokedAt", "key.agent", "key.operator", "admin.name", "admin.revokedAt"] },
    );
    const now = this.clock.now();
    const owner = session?.key ?? session?.admin;
    if (!session || !owner || !this.isLive(session, now) || owner.revokedAt) throw new UnauthenticatedError(SESSION_ENDED);
    if (now - session.lastUsedAt >= this.touchEveryMs) {
      await em.nativeUpdate(BrowserSession, { id: session.id }, { lastUsedAt: now });
      session.lastUsedAt = now;
    }
    return this.signedIn(session, session.key ? { principal: principalOf(session.key) } : { admin: { adminId: session.admin!.id, name: session.admin!.name } }, token);
  }

  /** Ends a session on every replica: its cookie no longer authenticates anything. */
  async signOut(em: Em, sessionId: string): Promise<void> {
    await em.nativeDelete(BrowserSession, { id: sessionId });
  }

  /**
   * Which of these sessions, held by open connections, still authenticate;
   * those are marked used now, since a page watching live updates is in use
   * even when it sends no request.
   */
  async keepAlive(em: Em, sessionIds: string[]): Promise<Set<string>> {
    const now = this.clock.now();
    const live = await em.find(
      BrowserSession,
      { id: { $in: sessionIds }, expiresAt: { $gt: now }, lastUsedAt: { $gt: now - this.settings.idleMs }, $or: [{ key: { revokedAt: null } }, { admin: { revokedAt: null } }] },
      { fields: ["id"] },
    );
    const ids = live.map((session) => session.id);
    if (ids.length) await em.nativeUpdate(BrowserSession, { id: { $in: ids }, lastUsedAt: { $lte: now - this.touchEveryMs } }, { lastUsedAt: now });
    return new Set(ids);
  }

  /** Deletes every session that can no longer authenticate: expired, idle, or of a revoked key or admin. */
  async sweep(em: Em): Promise<number> {
    const now = this.clock.now();
    const ended = await em.nativeDelete(BrowserSession, { $or: [{ expiresAt: { $lte: now } }, { lastUsedAt: { $lte: now - this.settings.idleMs } }] });
    const revoked = await em.find(BrowserSession, { $or: [{ key: { revokedAt: { $ne: null } } }, { admin: { revokedAt: { $ne: null } } }] }, { fields: ["id"] });
    if (revoked.length) await em.nativeDelete(BrowserSession, { id: { $in: revoked.map((session) => session.id) } });
    return ended + revoked.length;
  }

  /** How stale a session's last use may be before a use writes it down (a write per request would be wasted). */
  private get touchEveryMs(): number {
    return Math.min(TOUCH_EVERY_MS, this.settings.idleMs / 10);
  }

  private isLive(session: Pick<BrowserSession, "expiresAt" | "lastUsedAt">, now: number): boolean {
    return session.expiresAt > now && session.lastUsedAt + this.settings.idleMs > now;
  }

  private signedIn(session: Pick<BrowserSession, "id" | "expiresAt" | "lastUsedAt">, owner: Pick<SignedIn, "principal" | "admin">, token: string): SignedIn {
    return {
      ...(owner.admin ? { admin: owner.admin } : { principal: owner.principal! }),
      sessionId: session.id,
      csrfToken: this.digest("csrf", token),
      expiresAt: new Date(Math.min(session.expiresAt, session.lastUsedAt + this.settings.idleMs)),
      endsAt: new Date(session.expiresAt),
    };
  }

  private digest(purpose: "session" | "csrf", token: string): string {
    const mac = createHmac("sha256", this.pepper).update(`${purpose}\0${token}`).digest();
    return purpose === "session" ? mac.toString("hex") : mac.toString("base64url");
  }

  /** At most once an hour per process, and once an hour across replicas (the job's dedupe key); sign-ins are what add rows. */
  private async scheduleSweep(em: Em, now: number): Promise<void> {
    if (now < this.nextSweepAt) return;
    const hour = Math.floor(now / HOUR_MS);
    this.nextSweepAt = (hour + 1) * HOUR_MS;
    enqueue(em, SessionJobs.sweep, {}, { dedupeKey: `${SessionJobs.sweep}:${hour}` });
    try {
      await em.flush();
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) this.log.warn({ err }, "could not schedule the browser session sweep");
    }
  }
}

/** Why `header` (the request's X-CSRF-Token) is not this session's CSRF token, or undefined when it is (compared in constant time). */
export function csrfTokenProblem(signedIn: SignedIn, header: string | undefined): CsrfTokenInvalidError | undefined {
  if (!header) return new CsrfTokenInvalidError(`the ${CSRF_HEADER} header is missing`);
  // Compared as fixed-length digests, so neither the length nor the bytes of the token leak through timing.
  const digest = (value: string) => createHmac("sha256", "csrf-compare").update(value).digest();
  if (!timingSafeEqual(digest(header), digest(signedIn.csrfToken))) return new CsrfTokenInvalidError(`the ${CSRF_HEADER} header does not match this session`);
  return undefined;
}

function principalOf(key: Pick<ApiKey, "id" | "mode" | "agent" | "operator">): Principal {
  if (key.agent) return { kind: "agent", agentId: key.agent.id, mode: key.mode, keyId: key.id };
  return { kind: "operator", operatorId: key.operator!.id, mode: key.mode, keyId: key.id };
}
