import { randomUUID } from "node:crypto";
import { encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { DomainError, type ErrorCode } from "../common/errors";
import type { Logger } from "../common/logger";
import { restFieldName } from "./case";
import type { RestResponse } from "./rest.route";

/** The one error shape of the REST API. */
export interface RestErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** graphql-js's variable errors: `Variable "$input" got invalid value 1 at "input.title"; String cannot represent ...`. */
const VARIABLE_ERROR = /^Variable "\$\w+" got invalid value .*?; (.+)$/s;

export interface ErrorNaming {
  /**
   * Set when the error came from a GraphQL operation: its field is a GraphQL
   * path, renamed to the REST name (snake_case, and these aliases for
   * arguments REST calls otherwise, e.g. first → limit).
   */
  graphqlAliases?: Readonly<Record<string, string>>;
}

/**
 * A failure as the REST client sees it: the HTTP status of its code, and
 * the field named the way the client sent it, in `field` and in the
 * message. Anything that is not a DomainError is logged once and masked
 * with a reference.
 */
export function errorResponse(err: unknown, log: Logger, naming: ErrorNaming = {}): RestResponse {
  if (!(err instanceof DomainError)) {
    const reference = randomUUID();
    log.error({ err, reference }, "unexpected error in the REST API");
    return toResponse(new DomainError("INTERNAL_SERVER_ERROR", `internal error (reference ${reference})`));
  }
  if (!err.field || !naming.graphqlAliases) return toResponse(err);
  const field = restFieldName(err.field, naming.graphqlAliases);
  return toResponse(new DomainError(err.code, restMessage(err, field), field, err.details));
}

function restMessage(err: DomainError, field: string): string {
  const prefix = `${err.field}: `;
  if (err.message.startsWith(prefix)) return `${field}: ${err.message.slice(prefix.length)}`;
  const variable = VARIABLE_ERROR.exec(err.message);
  return variable ? `${field}: ${variable[1]}` : err.message;
}

function toResponse(err: DomainError): RestResponse {
  const error: RestErrorBody["error"] = { code: err.code, message: err.message };
  if (err.field) error.field = err.field;
  // A mutation refused for the rate budget (server/graphql/admission.ts) says when to retry, like a refused request.
  const retryAfter = err.details?.retryAfterSeconds;
  const headers: Record<string, string> = {};
  if (typeof retryAfter === "number") headers["Retry-After"] = String(retryAfter);
  // A 402 that can be paid from a wallet carries the x402 v2 requirements; the body stays the API's error.
  if (err.details?.x402) headers["PAYMENT-REQUIRED"] = encodePaymentRequiredHeader(err.details.x402 as PaymentRequired);
  return { status: err.httpStatus, body: { error }, ...(Object.keys(headers).length ? { headers } : {}) };
}
