/**
 * Typed domain errors. Each carries the code a client branches on and the
 * HTTP status the REST layer answers with; they are mapped to GraphQL
 * `extensions` in one place (graphql/error-formatter.ts).
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "CSRF_TOKEN_INVALID"
  | "NOT_FOUND"
  | "CONFLICT"
  | "INSUFFICIENT_FUNDS"
  | "DEADLINE_PASSED"
  | "LIMIT_EXCEEDED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "QUERY_TOO_COMPLEX"
  | "INTERNAL_SERVER_ERROR";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_FUNDS: 402,
  FORBIDDEN: 403,
  CSRF_TOKEN_INVALID: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  DEADLINE_PASSED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
};

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Bad input: names the field and the rule it broke. */
export class ValidationError extends DomainError {
  constructor(field: string, rule: string) {
    super("BAD_USER_INPUT", `${field}: ${rule}`, field);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = "a valid API key is required (X-API-Key header or Authorization: Bearer)") {
    super("UNAUTHENTICATED", message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

export class NotFoundError extends DomainError {
  constructor(kind: string, id: string) {
    super("NOT_FOUND", `${kind} ${id} not found`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, undefined, details);
  }
}

export class InsufficientFundsError extends DomainError {
  /** `x402`: the x402 v2 payment requirements to pay from a wallet instead (REST sends them as PAYMENT-REQUIRED). */
  constructor(required: string, available: string, x402?: unknown) {
    super(
      "INSUFFICIENT_FUNDS",
      `insufficient balance: this needs ${required} USDC and ${available} USDC is available`,
      undefined,
      { requiredUsd: required, availableUsd: available, ...(x402 ? { x402 } : {}) },
    );
  }
}

export class DeadlinePassedError extends DomainError {
  constructor(message: string) {
    super("DEADLINE_PASSED", message);
  }
}

export class LimitExceededError extends DomainError {
  constructor(message: string, field?: string) {
    super("LIMIT_EXCEEDED", message, field);
  }
}
