import { execute, type GraphQLError, parse, validate, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { DomainError, HTTP_STATUS, type ErrorCode } from "../common/errors";
import type { Logger } from "../common/logger";
import type { Context } from "../graphql/context";
import { createErrorFormatter } from "../graphql/error-formatter";
import { checkOperation } from "../graphql/query-budget";

/** A prepared GraphQL operation: run it with the caller's context and its variables; resolves with `data`. */
export type GraphQLOperation<TData> = (ctx: Context, variables?: Record<string, unknown>) => Promise<TData>;

export interface GraphQLRunner {
  /** Parses and validates `source` against the schema now, so a REST route that no longer fits the schema fails at start. */
  operation<TData>(source: string): GraphQLOperation<TData>;
}

/**
 * The REST layer's only way into HumanOps: operations run against the same
 * schema, resolvers and context as /graphql. Errors come out as the
 * DomainErrors the GraphQL error formatter describes (code, message, field),
 * so both transports report a failure the same way.
 */
export function createGraphQLRunner(schema: GraphQLSchema, log: Logger): GraphQLRunner {
  const formatError = createErrorFormatter(log);
  return {
    operation<TData>(source: string): GraphQLOperation<TData> {
      const document = parse(source);
      const problems = validate(schema, document);
      if (problems.length) throw new Error(`REST operation does not fit the schema: ${problems.map((p) => p.message).join("; ")}\n${source}`);
      return async (ctx, variables = {}) => {
        checkOperation(schema, document, undefined, variables);
        const result = await execute({ schema, document, variableValues: variables, contextValue: ctx });
        if (result.errors?.length) throw toDomainError(formatError(describe(result.errors[0]), result.errors[0]));
        return result.data as TData;
      };
    },
  };
}

/**
 * graphql-js leaves errors raised while coercing variables without a code
 * (Apollo adds BAD_USER_INPUT at its HTTP layer); give them the same code so
 * the shared formatter extracts the field they name.
 */
function describe(error: GraphQLError): GraphQLFormattedError {
  const formatted = error.toJSON();
  const isVariableError = !error.path && !error.originalError && !formatted.extensions?.code;
  return isVariableError ? { ...formatted, extensions: { ...formatted.extensions, code: "BAD_USER_INPUT" } } : formatted;
}

function toDomainError(formatted: GraphQLFormattedError): DomainError {
  const extensions = formatted.extensions ?? {};
  const code = String(extensions.code) in HTTP_STATUS ? (String(extensions.code) as ErrorCode) : "INTERNAL_SERVER_ERROR";
  const field = typeof extensions.field === "string" ? extensions.field : undefined;
  const details = extensions.details as Record<string, unknown> | undefined;
  return new DomainError(code, formatted.message, field, details);
}
