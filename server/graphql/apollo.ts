import express from "express";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import type { DocumentNode, GraphQLSchema } from "graphql";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled } from "@apollo/server/plugin/disabled";
import type { Em, Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import type { Principal } from "../agents/api-key.service";
import type { Services } from "../services";
import type { SignedIn } from "../sessions/session.service";
import type { Context, ContextFactory } from "./context";
import { createErrorFormatter } from "./error-formatter";
import { checkOperation, checkSource, QUERY_BUDGET, toRequestError } from "./query-budget";
import { RequestBudget, type Caller, type RateLimiter } from "../common/rate-limit";
import { admittedContext } from "./admission";
import { DomainError } from "../common/errors";
import { answerableError, graphqlErrorBody } from "../common/http-errors";
import { isAdminKey, type AdminPrincipal } from "../admin/admin.service";
import { Mode } from "../common/mode";

/** Builds a Context with its own EntityManager fork, the caller resolved from the key, and the rate budgets it spends from. */
export function createContextFactory(orm: Orm, services: Services, log: Logger, limiter?: RateLimiter): ContextFactory {
  return async (apiKey, clientAddress, sessionToken) => {
    // Forked when first used: a request that reads nothing from the database ({ __typename }, a refusal) never forks one.
    let forked: Em | undefined;
    const em = () => (forked ??= orm.em.fork());
    let principal: Principal | undefined;
    let session: SignedIn | undefined;
    let authError: DomainError | undefined;
    let admin: AdminPrincipal | undefined;
    if (apiKey && isAdminKey(apiKey)) {
      try {
        admin = await services.admins.authenticate(em(), apiKey);
      } catch (err) {
        authError = err as DomainError;
      }
    } else if (apiKey) {
      try {
        principal = await services.keys.authenticate(em, apiKey);
      } catch (err) {
        authError = err as DomainError;
      }
    } else if (sessionToken) {
      try {
        session = await services.sessions.authenticate(em(), sessionToken);
        // An admin's session is the admin, exactly as the admin key would be (the admin operations only).
        principal = session.principal;
        admin = session.admin;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        authError = err;
      }
    }
    const caller: Caller | undefined = principal
      ? { key: { id: principal.keyId, mode: principal.mode } }
      : admin
        ? { key: { id: `admin:${admin.adminId}`, mode: Mode.LIVE } }
        : clientAddress
          ? { address: clientAddress }
          : undefined;
    const budget = limiter && caller ? new RequestBudget(limiter, caller, clientAddress ? { address: clientAddress } : caller) : undefined;
    return {
      get em() {
        return em();
      },
      services,
      log,
      principal,
      session,
      authError,
      budget,
      admin,
    } satisfies Context;
  };
}

/**
 * Documents Apollo parsed and validated, and whose shape and written-out text
 * passed the query budget, by their text: the direct path (direct.ts) runs
 * these without parsing or validating them again. Bounded; the oldest goes
 * first.
 */
export class KnownDocuments {
  private readonly byText = new Map<string, DocumentNode>();

  constructor(private readonly maxEntries = 1_000) {}

  get(text: string): DocumentNode | undefined {
    return this.byText.get(text);
  }

  remember(text: string, document: DocumentNode): void {
    if (this.byText.has(text)) return;
    if (this.byText.size >= this.maxEntries) this.byText.delete(this.byText.keys().next().value!);
    this.byText.set(text, document);
  }
}

/** Refuses an operation over the query budget, or with text inputs that are not clean text, before it runs (over HTTP and for MCP's executeOperation alike). */
function queryBudgetPlugin(schema: GraphQLSchema, known: KnownDocuments): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          try {
            checkOperation(schema, document, request.operationName, request.variables);
          } catch (err) {
            throw err instanceof DomainError ? toRequestError(err) : err;
          }
          if (typeof request.query === "string") known.remember(request.query, document);
        },
      };
    },
  };
}

/**
 * No HumanOps answer may be stored by a shared cache. Apollo's cache-control
 * plugin says the same (`no-store`: the schema sets no cache hints) but
 * wraps every field's resolver to work it out; this says it once.
 */
const noStorePlugin: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set("cache-control", NO_STORE);
      },
    };
  },
};

export const NO_STORE = "no-store";

export interface MountedGraphQL {
  apollo: ApolloServer<Context>;
  known: KnownDocuments;
}

/**
 * GraphQL over HTTP at /graphql, behind admission() (mounted in front by
 * app.ts). Everything that fails before an operation runs (a body that is
 * not JSON, too large, of another Content-Type, a document over the query
 * budget) answers in GraphQL's error shape with its HTTP status, like the
 * operations' own errors. Plain JSON POSTs are taken earlier by direct.ts.
 */
export async function mountGraphQL(app: express.Express, schema: GraphQLSchema, log: Logger, jsonBodyBytes: number): Promise<MountedGraphQL> {
  const known = new KnownDocuments();
  const apollo = new ApolloServer<Context>({
    schema,
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: QUERY_BUDGET.tokens },
    plugins: [queryBudgetPlugin(schema, known), noStorePlugin, ApolloServerPluginCacheControlDisabled(), ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()],
    // server/index.ts owns SIGTERM/SIGINT and stops every part in order; Apollo's own handler would race it.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const refuse = (res: express.Response, err: DomainError) => void res.status(err.httpStatus).json(graphqlErrorBody(err));
  app.use(
    "/graphql",
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      // Only JSON is read; this also turns away the simple requests a browser sends cross-site (text/plain, forms).
      if (req.method !== "POST" || !req.headers["content-type"] || req.is("application/json")) return next();
      refuse(res, new DomainError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json (got ${req.get("Content-Type")})`));
    },
    express.json({ limit: jsonBodyBytes }),
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      const query: unknown = req.method === "GET" ? req.query.query : req.body?.query;
      try {
        if (typeof query === "string") checkSource(query);
      } catch (err) {
        return err instanceof DomainError ? refuse(res, err) : next(err);
      }
      next();
    },
    expressMiddleware(apollo, { context: async ({ res }) => admittedContext(res) }),
    (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (res.headersSent) return void res.end();
      refuse(res, answerableError(err, log, jsonBodyBytes));
    },
  );
  return { apollo, known };
}
