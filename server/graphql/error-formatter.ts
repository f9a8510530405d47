import { randomUUID } from "node:crypto";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { OptimisticLockError } from "@mikro-orm/core";
import { unwrapResolverError } from "@apollo/server/errors";
import { DomainError } from "../common/errors";
import type { Logger } from "../common/logger";

/** Apollo's own input errors name the path: `... at "input.location.lat"; ...`, or a missing field: `Field "title" of required type`. */
const VARIABLE_PATH = /at "([^"]+)"/;
const MISSING_FIELD = /Field "([^"]+)" of required type/;
const INPUT_CODES = new Set(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_RESOLUTION_FAILURE"]);

/**
 * Maps every error to a stable shape in one place: domain errors keep their
 * code, message and field; GraphQL input errors stay BAD_USER_INPUT with the
 * field they name; anything else is masked as INTERNAL_SERVER_ERROR with a
 * reference id, and logged once.
 */
export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof DomainError) {
      return {
        message: original.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: {
          code: original.code,
          ...(original.field ? { field: stripInputPrefix(original.field) } : {}),
          ...(original.details ? { details: original.details } : {}),
        },
      };
    }
    if (original instanceof OptimisticLockError) {
      return { message: "the object changed while this request ran; reload it and retry", path: formatted.path, extensions: { code: "CONFLICT" } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && INPUT_CODES.has(code)) {
      const named = formatted.extensions?.field;
      const field = typeof named === "string" ? named : inputField(formatted.message);
      const isInput = code !== "GRAPHQL_PARSE_FAILED" && code !== "GRAPHQL_VALIDATION_FAILED";
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: isInput ? "BAD_USER_INPUT" : code, ...(field ? { field: stripInputPrefix(field) } : {}) },
      };
    }
    if (original instanceof GraphQLError && !original.originalError) return formatted;
    const reference = randomUUID();
    log.error({ err: original, reference, path: formatted.path }, "unexpected error");
    return { message: `internal error (reference ${reference})`, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR", reference } };
  };
}

function inputField(message: string): string | undefined {
  const path = VARIABLE_PATH.exec(message)?.[1];
  const missing = MISSING_FIELD.exec(message)?.[1];
  if (missing) return path ? `${path}.${missing}` : missing;
  return path;
}

/** "input.location.lat" → "location.lat": clients know their fields, not our argument names. */
function stripInputPrefix(field: string): string {
  return field.replace(/^input\./, "");
}
