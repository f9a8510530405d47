import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import express from "express";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Logger } from "../common/logger";
import { requestBodyError } from "../common/http-errors";
import { apiKeyFrom, type ContextFactory } from "../graphql/context";
import type { OperationRunner } from "../graphql/runner";
import type { LiveFeed } from "../events/live-feed";
import { createInProcessBackend } from "./in-process.backend";
import { createMcpServer } from "./server";

export interface McpRouteDeps {
  /** Runs the tools' documents (the runner REST uses). */
  runner: OperationRunner;
  createContext: ContextFactory;
  /** Where waits and resource subscriptions hear of task changes. */
  live: LiveFeed;
  log: Logger;
  jsonBodyBytes: number;
}

export interface McpEndpoint {
  /** Ends every session and its streams (before the HTTP server drains). */
  close(): Promise<void>;
}

/** A session with no request or stream open for this long is closed. */
const SESSION_IDLE_MS = 30 * 60_000;
/** Sessions live in this process's memory; past this many, new ones are refused until some end. */
const MAX_SESSIONS = 1_000;

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  /** SHA-256 of the API key the session was opened with (of "" without one): every request must present the same. */
  keyDigest: Buffer;
  openRequests: number;
  lastSeen: number;
}

const digest = (apiKey: string | undefined) => createHash("sha256").update(apiKey ?? "").digest();

function rpcError(res: express.Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id: null });
}

/**
 * HumanOps as a Streamable HTTP MCP server at /mcp. Each session gets its own
 * McpServer over the in-process GraphQL backend, bound to the API key it was
 * opened with (X-API-Key or Authorization: Bearer, as for /graphql). A
 * session opened without a key can only register an agent.
 */
export function mountMcp(app: express.Express, deps: McpRouteDeps): McpEndpoint {
  const sessions = new Map<string, Session>();

  /** Counts the request as open until its response ends, so a session with a live stream is never idle. */
  function track(session: Session, res: express.Response): void {
    session.openRequests += 1;
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.openRequests -= 1;
      session.lastSeen = Date.now();
    });
  }

  async function openSession(req: express.Request, res: express.Response): Promise<void> {
    // admission (app.ts) has refused a key that is not valid.
    const apiKey = apiKeyFrom(req.headers);
    if (sessions.size >= MAX_SESSIONS) return rpcError(res, 503, -32000, "too many open MCP sessions; retry later");
    const server = createMcpServer(createInProcessBackend(deps.runner, deps.createContext, apiKey, req.ip ?? "unknown", deps.live));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, session);
        deps.log.info({ mcpSession: id, withKey: Boolean(apiKey) }, "MCP session opened");
      },
    });
    const session: Session = { transport, server, keyDigest: digest(apiKey), openRequests: 0, lastSeen: Date.now() };
    transport.onclose = () => {
      if (transport.sessionId && sessions.delete(transport.sessionId)) deps.log.info({ mcpSession: transport.sessionId }, "MCP session closed");
    };
    server.server.onerror = (err) => deps.log.warn({ err }, "MCP protocol error");
    await server.connect(transport);
    track(session, res);
    await transport.handleRequest(req, res, req.body);
  }

  /** The session a request names, if it exists and the request carries the key it was opened with. */
  function sessionOf(req: express.Request, res: express.Response): Session | undefined {
    const id = req.headers["mcp-session-id"];
    if (typeof id !== "string") {
      rpcError(res, 400, -32000, "Mcp-Session-Id header required: send initialize first");
      return undefined;
    }
    const session = sessions.get(id);
    if (!session) {
      rpcError(res, 404, -32001, "session not found: it ended or expired; initialize a new one");
      return undefined;
    }
    if (!timingSafeEqual(session.keyDigest, digest(apiKeyFrom(req.headers)))) {
      rpcError(res, 403, -32001, "this MCP session was opened with a different API key");
      return undefined;
    }
    return session;
  }

  const handle = (route: (req: express.Request, res: express.Response) => Promise<void>) => async (req: express.Request, res: express.Response) => {
    try {
      await route(req, res);
    } catch (err) {
      deps.log.error({ err }, "MCP request failed");
      if (!res.headersSent) rpcError(res, 500, -32603, "internal error");
    }
  };

  app.post(
    "/mcp",
    express.json({ limit: deps.jsonBodyBytes }),
    handle(async (req, res) => {
      if (!req.headers["mcp-session-id"] && isInitializeRequest(req.body)) return openSession(req, res);
      const session = sessionOf(req, res);
      if (!session) return;
      track(session, res);
      await session.transport.handleRequest(req, res, req.body);
    }),
  );
  const existing = handle(async (req, res) => {
    const session = sessionOf(req, res);
    if (!session) return;
    track(session, res);
    await session.transport.handleRequest(req, res);
  });
  app.get("/mcp", existing);
  app.delete("/mcp", existing);
  app.use("/mcp", (err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    const failure = requestBodyError(err, deps.jsonBodyBytes);
    if (!failure) return next(err);
    // JSON-RPC's own codes: -32700 for a body that is not JSON, -32600 for a request that cannot be read as one.
    rpcError(res, failure.httpStatus, (err as { type?: unknown }).type === "entity.parse.failed" ? -32700 : -32600, failure.message);
  });

  const closeSession = (session: Session) => session.transport.close().catch((err: unknown) => deps.log.warn({ err }, "closing an MCP session failed"));
  const sweep = setInterval(() => {
    const idleSince = Date.now() - SESSION_IDLE_MS;
    for (const session of sessions.values()) if (session.openRequests === 0 && session.lastSeen < idleSince) void closeSession(session);
  }, 60_000).unref();

  return {
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map(closeSession));
    },
  };
}
