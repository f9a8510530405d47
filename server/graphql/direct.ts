import type http from "node:http";
import type express from "express";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { execute, getOperationAST, OperationTypeNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import type { Logger } from "../common/logger";
import { ValidationError, type DomainError } from "../common/errors";
import { answerableError, graphqlErrorBody } from "../common/http-errors";
import type { Context } from "./context";
import { admittedContext } from "./admission";
import { checkOperationVariables, checkSource } from "./query-budget";
import { NO_STORE, type KnownDocuments } from "./apollo";
import { createErrorFormatter } from "./error-formatter";
import { compiledQuery } from "./compiled";

/** `application/json`, alone or with UTF-8 named as its charset: the bodies read without express. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Whitespace JSON allows before a value; express.json (strict) reads only an object or an array. */
const FIRST_CHAR = /^[ \t\n\r]*(.)/s;

export interface DirectGraphQLOptions {
  app: express.Express;
  schema: GraphQLSchema;
  apollo: ApolloServer<Context>;
  /** Documents Apollo accepted, run here without parsing or validating them again. */
  known: KnownDocuments;
  /** The same admission() express runs in front of /graphql. */
  admit: express.RequestHandler;
  log: Logger;
  jsonBodyBytes: number;
}

/**
 * POST /graphql with a JSON body, answered without express's router and
 * body parser: the request passes the same admission (key, session cookie,
 * CSRF token, rate budget, with the same headers and refusals), the same
 * body limits and query-budget checks, then Apollo's pipeline, as the
 * express route in mountGraphQL does. Returns false, having touched
 * nothing, for every request it does not take (another method or path, a
 * query string, another Content-Type or charset, a compressed or chunked
 * body, one over the size limit): express answers those as before.
 */
export function directGraphQL({ app, schema, apollo, known, admit, log, jsonBodyBytes }: DirectGraphQLOptions): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const formatError = createErrorFormatter(log);
  const refuse = (res: express.Response, err: DomainError) => void res.status(err.httpStatus).json(graphqlErrorBody(err));
  return (req, res) => {
    const { headers } = req;
    if (req.method !== "POST" || req.url !== "/graphql") return false;
    const type = headers["content-type"];
    const length = Number(headers["content-length"]);
    if (!type || !PLAIN_JSON.test(type) || headers["content-encoding"] !== undefined || headers["transfer-encoding"] !== undefined) return false;
    if (!(length > 0 && length <= jsonBodyBytes)) return false;

    // What express's app.handle does for every request, so admission's req.ip (TRUST_PROXY), res.set and the refusals work alike.
    const request = Object.setPrototypeOf(req, app.request) as express.Request;
    const response = Object.setPrototypeOf(res, app.response) as express.Response;
    request.res = response;
    response.req = request;
    response.locals = Object.create(null) as express.Response["locals"];
    const fail = (err: unknown) => {
      if (response.headersSent) return void response.end();
      refuse(response, answerableError(err, log, jsonBodyBytes));
    };
    void admit(request, response, (err?: unknown) => {
      if (err) return fail(err);
      readJson(request, length)
        .then(async (body) => {
          const ctx = admittedContext(response);
          const answer = await runKnown(body, headers.accept, ctx);
          if (answer) {
            response.writeHead(answer.status, { "content-type": JSON_UTF8, "cache-control": NO_STORE, "content-length": Buffer.byteLength(answer.body) });
            response.end(answer.body);
            return;
          }
          const query: unknown = (body as { query?: unknown } | undefined)?.query;
          if (typeof query === "string") checkSource(query);
          const httpHeaders = new HeaderMap();
          for (const name in headers) {
            const value = headers[name];
            if (value !== undefined) httpHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          const apolloAnswer = await apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest: { method: "POST", headers: httpHeaders, search: "", body },
            context: async () => ctx,
          });
          for (const [name, value] of apolloAnswer.headers) response.setHeader(name, value);
          response.statusCode = apolloAnswer.status ?? 200;
          if (apolloAnswer.body.kind === "complete") {
            response.setHeader("content-length", Buffer.byteLength(apolloAnswer.body.string));
            response.end(apolloAnswer.body.string);
            return;
          }
          for await (const chunk of apolloAnswer.body.asyncIterator) response.write(chunk);
          response.end();
        })
        .catch(fail);
    });
    return true;
  };

  /**
   * A request for a document Apollo has accepted before, run as Apollo would
   * run it (the same query-budget checks on its variables, the same
   * execution and error formatting, the same answer), without Apollo's
   * request pipeline; undefined, with nothing run, for anything else
   * (a new document, persisted queries, batches, another Accept, an
   * operation that fails before it executes), which Apollo then answers.
   */
  async function runKnown(body: unknown, accept: string | undefined, ctx: Context): Promise<{ status: number; body: string } | undefined> {
    if (accept !== undefined && !JSON_ACCEPTS.has(accept)) return undefined;
    if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
    const { query, variables, operationName, ...rest } = body as Record<string, unknown>;
    for (const key in rest) if (key !== "extensions" || (rest[key] !== null && (typeof rest[key] !== "object" || Object.keys(rest[key]).length))) return undefined;
    if (typeof query !== "string" || !(variables == null || (typeof variables === "object" && !Array.isArray(variables))) || !(operationName == null || typeof operationName === "string")) return undefined;
    const document = known.get(query);
    if (!document) return undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation === OperationTypeNode.SUBSCRIPTION) return undefined;
    const variableValues = (variables ?? undefined) as Record<string, unknown> | undefined;
    try {
      checkOperationVariables(schema, document, operation, variableValues);
    } catch {
      return undefined;
    }
    // A query compiled once (compiled.ts) answers the same data without graphql-js's executor; anything that fails there is run by graphql-js, which words it.
    const compiled = operation.operation === OperationTypeNode.QUERY ? compiledQuery(schema, document, operationName) : undefined;
    if (compiled) {
      const data = await compiled.run(ctx, variableValues).catch(() => undefined);
      if (data) return { status: 200, body: JSON.stringify({ data }) + "\n" };
    }
    const result: ExecutionResult = await execute({ schema, document, operationName: operationName, variableValues, contextValue: ctx });
    // No data: the variables did not fit the operation, refused before any resolver ran; Apollo words that refusal.
    if (!("data" in result) || result.data === undefined) return undefined;
    let status = 200;
    let errors: GraphQLFormattedError[] | undefined;
    if (result.errors?.length) {
      errors = result.errors.map((error) => {
        const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? "INTERNAL_SERVER_ERROR" };
        const http = extensions.http as { status?: unknown } | undefined;
        if (http && typeof http === "object") {
          if (typeof http.status === "number") status = http.status;
          delete extensions.http;
        }
        try {
          return formatError({ ...error.toJSON(), extensions }, error);
        } catch {
          return { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
        }
      });
    }
    return { status, body: JSON.stringify({ errors, data: result.data, extensions: result.extensions }) + "\n" };
  }
}

const JSON_UTF8 = "application/json; charset=utf-8";

/** Accept headers under which Apollo answers a single result as application/json. */
const JSON_ACCEPTS = new Set(["*/*", "application/json", "application/json; charset=utf-8", "application/json, */*", "application/json, text/plain, */*"]);

/** The body, read whole (its length is known and within the limit) and parsed as express.json (strict) would. */
function readJson(req: http.IncomingMessage, length: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.on("error", () => reject(new ValidationError("body", "could not be read (the request ended early or its length is wrong)")));
    req.on("end", () => {
      if (received !== length) return reject(new ValidationError("body", "could not be read (the request ended early or its length is wrong)"));
      let text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)).toString("utf8");
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const first = FIRST_CHAR.exec(text)?.[1];
      try {
        if (first !== "{" && first !== "[") throw new SyntaxError("not an object or array");
        resolve(JSON.parse(text));
      } catch {
        reject(new ValidationError("body", "is not valid JSON"));
      }
    });
  });
}
