import { randomUUID } from "node:crypto";
import type express from "express";
import { DomainError, ValidationError } from "./errors";
import type { Logger } from "./logger";

/**
 * A failure of express's body parsers (express.json, express.raw) as the
 * API's error, or undefined for anything else. The messages never quote the
 * body: a JSON syntax error from Node carries an excerpt of it.
 */
export function requestBodyError(err: unknown, maxBytes?: number): DomainError | undefined {
  const failure = err as { type?: unknown; status?: unknown; charset?: unknown; encoding?: unknown };
  switch (failure.type) {
    case "entity.too.large":
      return new DomainError("PAYLOAD_TOO_LARGE", maxBytes === undefined ? "the body is larger than this route accepts" : `the JSON body must be at most ${maxBytes} bytes`);
    case "charset.unsupported":
      return new DomainError("UNSUPPORTED_MEDIA_TYPE", `the body's charset ${JSON.stringify(typeof failure.charset === "string" ? failure.charset : "").slice(0, 40)} is not supported; send UTF-8`);
    case "encoding.unsupported":
      return new DomainError("UNSUPPORTED_MEDIA_TYPE", `the Content-Encoding ${JSON.stringify(typeof failure.encoding === "string" ? failure.encoding : "").slice(0, 40)} is not supported; send identity, gzip, deflate or br`);
    case "entity.parse.failed":
      return new ValidationError("body", "is not valid JSON");
  }
  if (typeof failure.type === "string" && isClientStatus(failure.status)) return new ValidationError("body", "could not be read (the request ended early or its length is wrong)");
  return undefined;
}

const isClientStatus = (status: unknown) => typeof status === "number" && status >= 400 && status < 500;

/**
 * The DomainError to answer with: the error itself, a body-parser failure,
 * or, for anything else, an internal error with a reference that is logged
 * once (without any request body the error may carry).
 */
export function answerableError(err: unknown, log: Logger, maxBodyBytes?: number): DomainError {
  if (err instanceof DomainError) return err;
  const bodyError = requestBodyError(err, maxBodyBytes);
  if (bodyError) return bodyError;
  // http-errors marks the messages meant for the client (e.g. a path that is not valid URL encoding).
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (isClientStatus(status) && expose === true && typeof message === "string") return new ValidationError("request", message);
  const reference = randomUUID();
  log.error({ err, reference }, "unexpected error");
  return new DomainError("INTERNAL_SERVER_ERROR", `internal error (reference ${reference})`);
}

/** GraphQL's error shape, `{ errors: [{ message, extensions: { code, field? } }] }`, for failures before an operation runs. */
export function graphqlErrorBody(err: DomainError): { errors: Array<{ message: string; extensions: Record<string, unknown> }> } {
  const extensions = { code: err.code, ...(err.field ? { field: err.field } : {}), ...(err.details ? { details: err.details } : {}) };
  return { errors: [{ message: err.message, extensions }] };
}

/**
 * Answers every request no route took with a JSON 404, and every error no
 * route answered with a JSON error (never express's HTML page with a stack
 * trace), in the REST shape `{ error: { code, message } }`. Mounted last.
 */
export function mountFallbacks(app: express.Express, log: Logger): void {
  app.use((req, res) => {
    res.status(404).json({ error: { code: "NOT_FOUND", message: `there is no route ${req.method} ${req.path}` } });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const error = answerableError(err, log);
    if (res.headersSent) return void res.end();
    res.status(error.httpStatus).json({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
  });
}
