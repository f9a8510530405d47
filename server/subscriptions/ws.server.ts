import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { CloseCode, type SubscribePayload } from "graphql-ws";
import { getOperationAST, GraphQLError, parse, validate, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import { DomainError, ForbiddenError } from "../common/errors";
import { ApiKey } from "../agents/api-key.entity";
import type { ApiKeyService } from "../agents/api-key.service";
import { apiKeyFrom, type ContextFactory } from "../graphql/context";
import { createErrorFormatter } from "../graphql/error-formatter";
import { checkDocument, checkOperation, checkOperationVariables, QUERY_BUDGET, toRequestError } from "../graphql/query-budget";
import { KnownDocuments } from "../graphql/apollo";
import { createSharedSubscribe } from "./shared-execution";
import { acceptTransportProtocol, serveTransport } from "./transport-ws";
import type { SessionService } from "../sessions/session.service";
import { sessionTokenFrom } from "../sessions/session.cookie";

export const GRAPHQL_PATH = "/graphql";
const RECHECK_CHUNK = 500;

/** Who a connection signed in as. */
interface ConnectionAuth {
  keyId: string;
  apiKey?: string;
  /** The browser session of a connection the web app opened with its cookie (and no key). */
  sessionToken?: string;
  sessionId?: string;
}

export interface SubscriptionServer {
  /** Open, authenticated connections. */
  readonly connectionCount: number;
  /** Closes every connection (1001 Going Away) and stops accepting new ones. */
  dispose(): Promise<void>;
}

/**
 * The API key of a connection, from its connection_init payload, accepted
 * in the shapes clients send: { "x-api-key": "ho_..." }, { authorization:
 * "Bearer ho_..." }, { apiKey } or the same under { headers }.
 */
export function apiKeyFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  const flat = { ...(typeof params.headers === "object" && params.headers !== null ? (params.headers as Record<string, unknown>) : {}), ...params };
  const headers: http.IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(flat)) if (typeof value === "string") headers[name.toLowerCase()] = value;
  return apiKeyFrom({ ...headers, "x-api-key": headers["x-api-key"] ?? headers.apikey });
}

/**
 * Whether a WebSocket upgrade that carries the session cookie comes from a
 * page of this server (its Origin's host is the Host it asked for) or of an
 * allowed origin. Browsers send the cookie with a WebSocket from any page
 * and CSRF tokens do not cover the upgrade, so the Origin is what tells the
 * web app from another site riding on its cookie.
 */
export function isAllowedOrigin(headers: http.IncomingHttpHeaders, allowedOrigins: readonly string[]): boolean {
  const origin = headers.origin;
  if (!origin) return false;
  if (allowedOrigins.includes(origin)) return true;
  try {
    const { protocol, host } = new URL(origin);
    return (protocol === "http:" || protocol === "https:") && host === headers.host;
  } catch {
    return false;
  }
}

/**
 * graphql-transport-ws (graphql-ws's protocol, served by transport-ws.ts) on the HTTP server's /graphql path (the WebSocket upgrade of
 * the same URL Apollo serves). A connection must authenticate in
 * connection_init: no key closes it with 4401, a bad or revoked key with
 * 4403. Without a key, the web app's session cookie on the upgrade request
 * authenticates it, and only from the server's own origin or an allowed
 * one (any other Origin, or none, is refused with 403 before the upgrade).
 * Open connections' keys (and sessions) are re-checked every
 * `keyRecheckMs`, and a key's at once when its revocation is made here or
 * heard from another replica; a connection whose key was revoked (or
 * session ended) is closed, which ends its subscriptions; an open
 * connection keeps its session from idling out. Each operation gets its own
 * Context (and EntityManager fork).
 */
export function mountSubscriptions(options: {
  httpServer: http.Server;
  schema: GraphQLSchema;
  createContext: ContextFactory;
  orm: Orm;
  keys: ApiKeyService;
  sessions: SessionService;
  allowedOrigins: readonly string[];
  log: Logger;
  keyRecheckMs: number;
  heartbeatMs: number;
}): SubscriptionServer {
  const { httpServer, schema, createContext, orm, keys, sessions, log } = options;
  // No permessage-deflate (ws's default for a server, said here): an update is a few hundred bytes, and each socket's zlib state would cost far more.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: acceptTransportProtocol });
  const sockets = new Map<string, Set<WebSocket>>();
  /** The connections signed in with a browser session, by its id (also under their key in `sockets`). */
  const bySession = new Map<string, Set<WebSocket>>();
  const formatError = createErrorFormatter(log);
  const format = (errors: readonly GraphQLError[]) => errors.map((error) => formatError(error.toJSON(), error));
  // Thousands of dashboards subscribe with the same few texts: each is parsed and validated once, and its document shared.
  const known = new KnownDocuments();

  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== GRAPHQL_PATH) {
      // Another upgrade handler may want it; if there is none, answer instead of leaving the client hanging.
      if (httpServer.listenerCount("upgrade") === 1) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    if (sessionTokenFrom(request.headers) && !isAllowedOrigin(request.headers, options.allowedOrigins)) {
      const reason = "a WebSocket signed in with the session cookie must come from the web app's own origin";
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\nConnection: close\r\n\r\n${reason}`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
  };
  httpServer.on("upgrade", onUpgrade);

  const trackIn = (index: Map<string, Set<WebSocket>>, id: string, socket: WebSocket) => {
    let set = index.get(id);
    if (!set) index.set(id, (set = new Set()));
    set.add(socket);
  };
  const untrack = (socket: WebSocket, auth: ConnectionAuth) => {
    for (const [index, id] of [[sockets, auth.keyId], [bySession, auth.sessionId]] as const) {
      const set = id ? index.get(id) : undefined;
      set?.delete(socket);
      if (id && set?.size === 0) index.delete(id);
    }
  };

  const transport = serveTransport<ConnectionAuth>(
    wss,
    {
      async connect(socket, request, params) {
        const apiKey = apiKeyFromConnectionParams(params);
        const sessionToken = apiKey ? undefined : sessionTokenFrom(request.headers);
        if (!apiKey && !sessionToken) {
          socket.close(CloseCode.Unauthorized, "Unauthorized: send your API key in connection_init, e.g. { \"x-api-key\": \"ho_test_...\" }");
          return undefined;
        }
        try {
          if (sessionToken) {
            const signedIn = await sessions.authenticate(orm.em.fork(), sessionToken);
            // Subscriptions follow an agent's or operator's tasks; an admin (key or session) has none to follow.
            if (!signedIn.principal) throw new ForbiddenError("an admin's session has no subscriptions: subscriptions need an agent's or operator's session");
            const auth: ConnectionAuth = { sessionToken, sessionId: signedIn.sessionId, keyId: signedIn.principal.keyId };
            trackIn(sockets, auth.keyId, socket);
            trackIn(bySession, signedIn.sessionId, socket);
            return auth;
          }
          const principal = await keys.authenticate(() => orm.em.fork(), apiKey!);
          const auth: ConnectionAuth = { apiKey, keyId: principal.keyId };
          trackIn(sockets, auth.keyId, socket);
          return auth;
        } catch (err) {
          if (err instanceof DomainError) {
            socket.close(CloseCode.Forbidden, `Forbidden: ${err.message}`.slice(0, 120));
          } else {
            log.error({ err }, "authenticating a WebSocket connection failed");
            socket.close(CloseCode.InternalServerError, "Internal server error");
          }
          return undefined;
        }
      },
      closed: untrack,
      prepare: (payload) => prepare(schema, known, payload),
      context: (auth) => createContext(auth.apiKey, undefined, auth.sessionToken),
      subscribe: createSharedSubscribe(),
      formatErrors: format,
    },
    log,
  );

  // One heartbeat for every connection (graphql-ws's server kept two timers per connection): a socket that has not answered the last ping by the next is ended.
  const answered = new WeakSet<WebSocket>();
  function onPong(this: WebSocket) {
    answered.add(this);
  }
  wss.on("connection", (socket: WebSocket) => {
    answered.add(socket);
    socket.on("pong", onPong);
  });
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!answered.has(socket)) {
        socket.terminate();
        continue;
      }
      answered.delete(socket);
      socket.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  const recheck = async () => {
    const keyIds = [...sockets.keys()];
    for (let i = 0; i < keyIds.length; i += RECHECK_CHUNK) {
      const chunk = keyIds.slice(i, i + RECHECK_CHUNK);
      const valid = await orm.em.fork().find(ApiKey, { id: { $in: chunk }, revokedAt: null }, { fields: ["id"] });
      const stillValid = new Set(valid.map((key) => key.id));
      for (const keyId of chunk) {
        if (stillValid.has(keyId)) continue;
        for (const socket of sockets.get(keyId) ?? []) socket.close(CloseCode.Forbidden, "Forbidden: the API key has been revoked");
        sockets.delete(keyId);
      }
    }
    const sessionIds = [...bySession.keys()];
    for (let i = 0; i < sessionIds.length; i += RECHECK_CHUNK) {
      const chunk = sessionIds.slice(i, i + RECHECK_CHUNK);
      const live = await sessions.keepAlive(orm.em.fork(), chunk);
      for (const sessionId of chunk) {
        if (live.has(sessionId)) continue;
        for (const socket of bySession.get(sessionId) ?? []) socket.close(CloseCode.Forbidden, "Forbidden: the session has ended; sign in again");
        bySession.delete(sessionId);
      }
    }
  };
  const timer = setInterval(() => recheck().catch((err: unknown) => log.error({ err }, "re-checking WebSocket API keys failed")), options.keyRecheckMs);
  timer.unref();
  // A revocation made here or heard from another replica closes the key's connections at once; a burst of them is one more check.
  let rechecking: Promise<void> | undefined;
  let again = false;
  keys.onRevocation(() => {
    if (sockets.size === 0) return;
    if (rechecking) {
      again = true;
      return;
    }
    rechecking = (async () => {
      do {
        again = false;
        await recheck().catch((err: unknown) => log.error({ err }, "re-checking WebSocket API keys after a revocation failed"));
      } while (again);
      rechecking = undefined;
    })();
  });

  return {
    get connectionCount() {
      let count = 0;
      for (const set of sockets.values()) count += set.size;
      return count;
    },
    async dispose() {
      clearInterval(timer);
      clearInterval(heartbeat);
      httpServer.off("upgrade", onUpgrade);
      await transport.dispose();
    },
  };
}

/**
 * Parses and validates an operation as /graphql does, and holds it to the
 * same query budget, before anything runs. A text that passed once is not
 * parsed or validated again: its document is reused, and only the checks
 * that depend on the variables run (as on /graphql's direct path).
 */
function prepare(
  schema: GraphQLSchema,
  known: KnownDocuments,
  payload: SubscribePayload,
): Omit<ExecutionArgs, "contextValue"> | readonly GraphQLError[] {
  try {
    const args = (document: ExecutionArgs["document"]): Omit<ExecutionArgs, "contextValue"> => ({ schema, document, operationName: payload.operationName, variableValues: payload.variables });
    const seen = known.get(payload.query);
    const operation = seen && getOperationAST(seen, payload.operationName);
    if (seen && operation) {
      checkOperationVariables(schema, seen, operation, payload.variables);
      return args(seen);
    }
    const document = parse(payload.query, { maxTokens: QUERY_BUDGET.tokens });
    checkDocument(document);
    const problems = validate(schema, document);
    if (problems.length) return problems;
    checkOperation(schema, document, payload.operationName, payload.variables);
    known.remember(payload.query, document);
    return args(document);
  } catch (err) {
    if (err instanceof GraphQLError) return [err];
    if (err instanceof DomainError) return [toRequestError(err)];
    throw err;
  }
}
