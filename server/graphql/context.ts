import type http from "node:http";
import type { Em } from "../db/orm";
import type { Logger } from "../common/logger";
import type { DomainError } from "../common/errors";
import type { Principal } from "../agents/api-key.service";
import type { Services } from "../services";
import type { PhotoUpload } from "../proofs/proof.service";
import type { RequestBudget } from "../common/rate-limit";
import type { SignedIn } from "../sessions/session.service";
import type { AdminPrincipal } from "../admin/admin.service";

/** Everything a resolver may use, built per request (or per WebSocket operation, MCP call, job). */
export interface Context {
  em: Em;
  services: Services;
  log: Logger;
  principal?: Principal;
  /** The browser session the principal came from (the web app's cookie), when it did not come from an API key. */
  session?: SignedIn;
  /** Why a key that was presented was refused; raised only when a resolver needs a caller. */
  authError?: DomainError;
  /** Files that came with this request as raw bytes (a REST multipart upload), by name, for PhotoInput.upload. */
  uploads?: ReadonlyMap<string, PhotoUpload>;
  /** The rate budgets this request's mutations spend from; absent for the server's own work (jobs, tests' direct calls). */
  budget?: RequestBudget;
  /** A platform administrator, when the key presented is an admin key (ho_admin_...); `principal` is then unset. */
  admin?: AdminPrincipal;
}

/** The API key of a request: `X-API-Key: ho_...` or `Authorization: Bearer ho_...`. */
export function apiKeyFrom(headers: http.IncomingHttpHeaders): string | undefined {
  const header = headers["x-api-key"];
  if (typeof header === "string" && header.trim()) return header.trim();
  const authorization = headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return bearer?.[1];
}

export interface ContextFactory {
  /**
   * `clientAddress`: where a request without a key came from, for its rate
   * budget. `sessionToken`: a browser session's cookie, the caller when no
   * key is presented.
   */
  (apiKey: string | undefined, clientAddress?: string, sessionToken?: string): Promise<Context>;
}
