import type http from "node:http";
import express from "express";
import type { GraphQLSchema } from "graphql";
import type { Config } from "../config";
import type { Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import { DomainError, UnauthenticatedError, ValidationError } from "../common/errors";
import type { JobWorker } from "../jobs/job.queue";
import type { ContextFactory } from "../graphql/context";
import { admission, admittedContext } from "../graphql/admission";
import type { OperationRunner } from "../graphql/runner";
import { buildOpenApiDocument, openApiResource } from "./openapi";
import { createRequestValidator, type RouteValidator } from "./request.validator";
import { IdempotencyJobs, IdempotencyStore } from "./idempotency.store";
import { readMultipart } from "./multipart";
import { errorResponse } from "./rest.errors";
import { requestBodyError } from "../common/http-errors";
import type { MultipartBody, RestResponse, RestRoute } from "./rest.route";
import type { PhotoStore } from "../photos/photo.store";
import { agentsResource } from "./agents.routes";
import { tasksResource } from "./tasks.routes";
import { operatorsResource } from "./operators.routes";
import { webhooksResource } from "./webhooks.routes";
import { reputationResource } from "./reputation.routes";
import { photosResource } from "./photos.routes";
import { messagesResource } from "./messages.routes";
import { adminResource } from "./admin.routes";

export const REST_BASE_PATH = "/api/v1";

export interface RestDependencies {
  config: Config;
  schema: GraphQLSchema;
  /** Runs the documents of server/api (shared with /mcp). */
  runner: OperationRunner;
  createContext: ContextFactory;
  orm: Orm;
  worker: JobWorker;
  log: Logger;
  /** The photo store, which uploads are spooled to as they arrive when it keeps files (PhotoStore.spool). */
  photoStore?: PhotoStore;
}

/** Answers a request without express's router, or returns false having touched nothing (express then answers it). */
export type DirectHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/**
 * Mounts the REST API v1 at /api/v1: a thin adapter whose every route runs a
 * GraphQL operation against the one schema. Each request passes the same
 * gates in order: rate limit, authentication, body (type, size, shape),
 * Idempotency-Key, then the operation; every failure leaves as
 * `{ error: { code, message, field? } }` with its HTTP status. Returns the
 * direct path for GET requests (directRest), to run before express.
 */
export function mountRest(app: express.Express, deps: RestDependencies): DirectHandler {
  const graphql = deps.runner;
  const resources = [
    agentsResource(graphql),
    tasksResource(graphql),
    operatorsResource(graphql, deps.config),
    webhooksResource(graphql),
    photosResource(),
    messagesResource(graphql, deps.config),
    reputationResource(graphql),
    openApiResource(() => document),
    adminResource(graphql),
  ];
  const document = buildOpenApiDocument(resources, deps.schema);
  const validatorFor = createRequestValidator(document);
  const idempotency = new IdempotencyStore(deps.orm, deps.config.apiKeyPepper, deps.log);
  deps.worker.register(IdempotencyJobs.purge, async ({ em }) => {
    await idempotency.purgeExpired(em);
  });

  const gates: Gates = { deps, idempotency, parseJson: express.json({ limit: deps.config.rest.jsonBodyBytes }) };
  const router = express.Router();
  const admit = admission(deps.createContext, (res, err) => send(res, errorResponse(err, deps.log)), { sessions: true });
  router.use(admit);
  const gets: DirectRoute[] = [];
  for (const route of resources.flatMap((resource) => resource.routes)) {
    const handler = endpoint(route, validatorFor(route), gates);
    router[route.method](route.path.replace(/\{(\w+)\}/g, ":$1"), handler);
    if (route.method === "get") gets.push(directRoute(route.path, handler));
  }
  router.use((req, res) => {
    send(res, errorResponse(new DomainError("NOT_FOUND", `there is no route ${req.method} ${req.baseUrl}${req.path}`), deps.log));
  });
  // Express's own failures before a route runs (e.g. a path that is not valid URL encoding) keep the error shape too.
  const failed = (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = (err as { status?: unknown }).status;
    const known = typeof status === "number" && status >= 400 && status < 500;
    send(res, errorResponse(known ? new ValidationError("path", `is not a valid request path (${(err as Error).message})`) : err, deps.log));
  };
  router.use(failed);
  app.use(REST_BASE_PATH, router);
  return directRest(app, admit, gets, failed);
}

/** A GET route as the direct path matches it: its path with each parameter's name. */
interface DirectRoute {
  pattern: RegExp;
  names: string[];
  handler: express.RequestHandler;
}

/** Parameter values the direct path takes: characters that URL decoding leaves alone and no route's path treats specially. */
const PLAIN_SEGMENT = "([A-Za-z0-9_-]+)";

function directRoute(path: string, handler: express.RequestHandler): DirectRoute {
  const names: string[] = [];
  const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_match, name: string) => {
    names.push(name);
    return PLAIN_SEGMENT;
  });
  return { pattern: new RegExp(`^${REST_BASE_PATH}${source}$`), names, handler };
}

/**
 * GET /api/v1/..., answered without express's router: the same admission
 * (key, session cookie, rate budget and its headers), the same route
 * handler and the same express response (JSON, ETag, 304 for a fresh
 * If-None-Match), only without walking the router's layers. It takes a GET
 * whose path is exactly one of the GET routes' (as written, in lower case,
 * without a trailing slash, each parameter plain letters, digits, `-` or
 * `_`), trying them in the router's order; a query string is read by the
 * route as before. Everything else returns false and goes through express.
 */
function directRest(app: express.Express, admit: express.RequestHandler, routes: DirectRoute[], failed: express.ErrorRequestHandler): DirectHandler {
  return (req, res) => {
    if (req.method !== "GET" || !req.url?.startsWith(REST_BASE_PATH)) return false;
    const url = req.url;
    const queryAt = url.indexOf("?");
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    let route: DirectRoute | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes) {
      match = candidate.pattern.exec(path);
      if (match) {
        route = candidate;
        break;
      }
    }
    if (!route || !match) return false;
    // What express's app.handle and the router mounted at /api/v1 do before a route runs.
    const request = Object.setPrototypeOf(req, app.request) as express.Request;
    const response = Object.setPrototypeOf(res, app.response) as express.Response;
    request.res = response;
    response.req = request;
    response.locals = Object.create(null) as express.Response["locals"];
    request.originalUrl = url;
    request.baseUrl = REST_BASE_PATH;
    request.url = url.slice(REST_BASE_PATH.length);
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => (params[name] = match[i + 1]));
    request.params = params;
    const handler = route.handler;
    const fail = (err: unknown) => {
      if (response.headersSent) return void response.end();
      failed(err, request, response, () => undefined);
    };
    void admit(request, response, (err?: unknown) => {
      if (err) return fail(err);
      Promise.resolve(handler(request, response, fail)).catch(fail);
    });
    return true;
  };
}

interface Gates {
  deps: RestDependencies;
  idempotency: IdempotencyStore;
  parseJson: express.RequestHandler;
}

function send(res: express.Response, response: RestResponse): void {
  if (response.headers) res.set(response.headers);
  if (!response.file) {
    sendJson(res, response.status, response.body);
    return;
  }
  // Private: a photo is evidence for its task's agent and operator, never for a shared cache.
  res.status(response.status).type(response.file.contentType).set({ "Cache-Control": `private, max-age=${response.file.cacheSeconds}`, "X-Content-Type-Options": "nosniff" }).send(response.file.data);
}

/**
 * `res.status(status).json(body)` as express 5 answers it, the same headers
 * (Content-Type with its charset, Content-Length, the ETag of the app's etag
 * function) and the same 304 to a fresh If-None-Match, written without
 * express's per-call header parsing (its setCharset, res.set and res.get ran
 * on every REST answer, a tenth of a task read's CPU with the write). A
 * response express's own json would answer otherwise (a Content-Type, ETag or
 * Transfer-Encoding already set, a JSON setting of the app changed, a 204 or
 * 205, a body JSON cannot write) is given to express.
 */
export function sendJson(res: express.Response, status: number, body: unknown): void {
  const settings = res.app.settings as Record<string, unknown>;
  const etagOf = settings["etag fn"];
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (
    text === undefined ||
    status === 204 ||
    status === 205 ||
    typeof etagOf !== "function" ||
    settings["json replacer"] ||
    settings["json spaces"] ||
    settings["json escape"] ||
    res.hasHeader("content-type") ||
    res.hasHeader("etag") ||
    res.hasHeader("transfer-encoding")
  ) {
    res.status(status).json(body);
    return;
  }
  const chunk = Buffer.from(text, "utf8");
  res.statusCode = status;
  res.setHeader("Content-Type", JSON_UTF8);
  res.setHeader("Content-Length", String(chunk.length));
  const etag = (etagOf as (body: Buffer, encoding?: string) => string | undefined)(chunk, undefined);
  if (etag) res.setHeader("ETag", etag);
  const req = res.req;
  if (req.fresh) {
    res.statusCode = 304;
    res.removeHeader("Content-Type");
    res.removeHeader("Content-Length");
    res.end();
    return;
  }
  if (req.method === "HEAD") res.end();
  else res.end(chunk);
}

const JSON_UTF8 = "application/json; charset=utf-8";

function endpoint(route: RestRoute, validator: RouteValidator, gates: Gates): express.RequestHandler {
  const { deps, idempotency } = gates;
  const keyOptional = route.operation.security?.some((option) => Object.keys(option).length === 0) ?? false;
  const secured = !keyOptional && (route.operation.security === undefined || route.operation.security.length > 0);
  return async (req, res) => {
    let response: RestResponse;
    let body: unknown;
    try {
      const ctx = admittedContext(res);
      if (secured && !ctx.principal && !ctx.admin) throw ctx.authError ?? new UnauthenticatedError();
      const query = validator.query(req.query);
      const idempotencyKey = route.method === "post" ? idempotencyKeyOf(req) : undefined;
      body = await readBody(req, res, route, validator, gates);
      const run = () =>
        route
          .handle({ ctx, params: req.params as Record<string, string>, query, body, idempotencyKey, paymentSignature: req.get("PAYMENT-SIGNATURE") })
          .catch((err: unknown) => errorResponse(err, deps.log, { graphqlAliases: route.fieldAliases ?? {} }));
      if (idempotencyKey) {
        const scope = ctx.principal?.keyId ?? (ctx.admin ? `admin:${ctx.admin.adminId}` : "anonymous");
        const request = { method: route.method, path: req.path, body: route.multipart ? multipartDigest(body as MultipartBody) : body };
        const outcome = await idempotency.run(scope, idempotencyKey, request, run);
        if (outcome.replayed) res.set("Idempotent-Replayed", "true");
        response = outcome.response;
      } else {
        response = await run();
      }
    } catch (err) {
      response = errorResponse(err, deps.log);
    }
    // Uploads spooled to the photo store and not kept (a failed or replayed submission) are removed before the answer.
    // (A route that takes multipart/form-data may also take JSON: only a multipart body has files to remove.)
    const multipart = route.multipart && typeof (body as Partial<MultipartBody> | undefined)?.discard === "function" ? (body as MultipartBody) : undefined;
    if (multipart) await multipart.discard().catch((err: unknown) => deps.log.warn({ err }, "could not remove an upload's spooled files"));
    send(res, response);
  };
}

function idempotencyKeyOf(req: express.Request): string | undefined {
  const key = req.get("Idempotency-Key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new ValidationError("Idempotency-Key", "must be 1 to 255 visible ASCII characters, e.g. a UUID");
  return key;
}

function hasBody(req: express.Request): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Reads the body the route declares, by Content-Type: JSON (validated against the document) or a multipart upload. */
async function readBody(req: express.Request, res: express.Response, route: RestRoute, validator: RouteValidator, gates: Gates): Promise<unknown> {
  const requestBody = route.operation.requestBody;
  if (!requestBody || route.method === "get") return undefined;
  const types = Object.keys(requestBody.content);
  if (!hasBody(req)) {
    if (requestBody.required) throw new ValidationError("body", `is required (${types.join(" or ")})`);
    return undefined;
  }
  const type = types.find((candidate) => req.is(candidate));
  if (!type) {
    throw new DomainError("UNSUPPORTED_MEDIA_TYPE", `Content-Type must be ${types.join(" or ")} (got ${req.get("Content-Type") ?? "none"})`);
  }
  if (type === "multipart/form-data") {
    const store = gates.deps.photoStore;
    return readMultipart(req, route.multipart!, store?.spool ? () => store.spool!() : undefined);
  }
  await parseJson(req, res, gates);
  validator.jsonBody(req.body);
  return req.body;
}

/** express.json, with its failures turned into the API's errors. */
function parseJson(req: express.Request, res: express.Response, gates: Gates): Promise<void> {
  return new Promise((resolve, reject) => {
    // A parser error with no domain meaning is passed on as the parser made it (always an Error in practice).
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    gates.parseJson(req, res, (err?: unknown) => (err ? reject(requestBodyError(err, gates.deps.config.rest.jsonBodyBytes) ?? err) : resolve()));
  });
}

/** What identifies an upload for Idempotency-Key matching: its fields, and its files by their hash. */
function multipartDigest({ fields, files }: MultipartBody): unknown {
  return { fields, files: files.map((file) => ({ sha256: file.sha256, contentType: file.contentType, filename: file.filename })) };
}
