import type http from "node:http";
import type express from "express";

export const SESSION_COOKIE = "humanops_session";

/** The session token of a request's `Cookie` header, if it has one. */
export function sessionTokenFrom(headers: http.IncomingHttpHeaders): string | undefined {
  for (const pair of (headers.cookie ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) {
      const value = pair.slice(at + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}

/**
 * httpOnly (no script reads it), SameSite=Lax (not sent on cross-site
 * subrequests), for the whole site, Secure when the request came over https
 * (directly or, with TRUST_PROXY, through a proxy that says so).
 */
export function setSessionCookie(req: express.Request, res: express.Response, token: string, endsAt: Date, now = Date.now()): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", path: "/", secure: req.secure, maxAge: Math.max(0, endsAt.getTime() - now) });
}

export function clearSessionCookie(req: express.Request, res: express.Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: "lax", path: "/", secure: req.secure });
}
