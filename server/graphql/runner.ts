import { execute, getOperationAST, type GraphQLError, type OperationDefinitionNode, parse, validate, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import { DomainError, HTTP_STATUS, type ErrorCode } from "../common/errors";
import type { Logger } from "../common/logger";
import type { GraphQLDocument } from "../api/document";
import { registeredDocuments } from "../api/document";
// Every document REST and MCP run: loading them registers them, so all are checked below.
import "../api/documents";
import type { Context } from "./context";
import { createErrorFormatter } from "./error-formatter";
import { checkOperation, checkOperationVariables } from "./query-budget";
import { compiledQuery } from "./compiled";

/** A response as /graphql would give it: data, and the errors formatted as its clients see them. */
export interface FormattedResult<TData> {
  data?: TData | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * The one way REST and /mcp run GraphQL: the documents of server/api,
 * executed in this process against the same schema, resolvers and context
 * as /graphql, within the same query budget. Errors come out as the GraphQL
 * error formatter describes them (code, message, field), so every transport
 * reports a failure the same way.
 */
export interface OperationRunner {
  /** Resolves with the operation's data, or throws its first error as the DomainError it describes (REST). */
  run<TData, TVariables>(document: GraphQLDocument<TData, TVariables>, ctx: Context, variables?: NoInfer<TVariables>): Promise<TData>;
  /** Resolves with data and formatted errors, as /graphql answers (MCP tools read both). */
  execute<TData, TVariables>(document: GraphQLDocument<TData, TVariables>, ctx: Context, variables?: TVariables): Promise<FormattedResult<TData>>;
}

/**
 * Parses and validates every document of server/api against `schema` now:
 * a document that no longer fits the schema stops the start, named, with
 * what does not fit.
 */
export function createOperationRunner(
  schema: GraphQLSchema,
  log: Logger,
  documents: readonly GraphQLDocument<unknown, unknown>[] = registeredDocuments(),
): OperationRunner {
  const formatError = createErrorFormatter(log);
  const parsed = new Map<string, DocumentNode>();
  const problems: string[] = [];
  for (const document of documents) {
    try {
      const node = parse(document.source);
      const invalid = validate(schema, node);
      if (invalid.length) problems.push(`${document.name}: ${invalid.map((problem) => problem.message).join("; ")}`);
      else parsed.set(document.name, node);
    } catch (err) {
      problems.push(`${document.name}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new Error(`the REST and MCP operations (server/api/documents.ts) do not fit the GraphQL schema:\n  - ${problems.join("\n  - ")}`);

  const nodeOf = (document: GraphQLDocument<unknown, unknown>): DocumentNode => {
    const node = parsed.get(document.name);
    if (!node) throw new Error(`${document.name} is not one of the documents of server/api/documents.ts`);
    return node;
  };

  // Documents that passed the whole query budget once: their shape and the text they write out never change, so only what their variables bring is checked again.
  const checked = new Map<DocumentNode, OperationDefinitionNode>();

  async function executeRaw(document: GraphQLDocument<unknown, unknown>, ctx: Context, variables: unknown): Promise<ExecutionResult> {
    const node = nodeOf(document);
    const variableValues = (variables ?? {}) as Record<string, unknown>;
    const operation = checked.get(node);
    if (operation) {
      checkOperationVariables(schema, node, operation, variableValues);
    } else {
      checkOperation(schema, node, document.name, variableValues);
      const selected = getOperationAST(node, document.name);
      if (selected) checked.set(node, selected);
    }
    const compiled = compiledQuery(schema, node, document.name);
    if (compiled) {
      try {
        return { data: await compiled.run(ctx, variableValues) };
      } catch {
        // Worded by graphql-js, with its partial data: the documents compiled are reads, run again.
      }
    }
    return execute({ schema, document: node, variableValues, contextValue: ctx });
  }

  const format = (error: GraphQLError) => formatError(describe(error), error);

  return {
    async run(document, ctx, variables) {
      const result = await executeRaw(document, ctx, variables);
      if (result.errors?.length) throw toDomainError(format(result.errors[0]));
      return result.data as never;
    },
    async execute(document, ctx, variables) {
      try {
        const result = await executeRaw(document, ctx, variables);
        return { data: result.data as never, errors: result.errors?.map(format) };
      } catch (err) {
        // Refused before it ran (query budget, text inputs): an error response, as /graphql answers it.
        if (err instanceof DomainError) return { errors: [formatError({ message: err.message }, err)] };
        throw err;
      }
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
