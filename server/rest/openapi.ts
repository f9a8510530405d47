import {
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { HTTP_STATUS, type ErrorCode } from "../common/errors";
import { componentSchemas } from "../api/json-schema";
import { snakeCase } from "./case";
import { errorRef, jsonResponse, type JsonSchema, type Operation, type RestRoute } from "./rest.route";

/** A feature's REST routes and the component schemas they reference. */
export interface RestResource {
  routes: RestRoute[];
  /** Hand-written request schemas, by component name (response schemas come from server/api). */
  schemas?: Record<string, JsonSchema>;
  /** Request bodies derived from GraphQL input types, by component name: the REST body is that input in snake_case. */
  inputs?: Record<string, { graphqlType: string; omit?: string[] }>;
}

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input: `error.field` names the field (as sent) and `error.message` the rule it broke",
  401: "No API key where one is needed, or a key that is malformed, unknown or revoked (on every route, before any rate budget is spent)",
  402: "The agent's balance does not cover reward + fee (or an x402 payment was refused). Where the task's chain takes x402 payments, PAYMENT-REQUIRED carries the x402 v2 requirements: pay from a wallet and send the same request again with PAYMENT-SIGNATURE",
  403: "This key may not do this: an operator key on an agent route (or the reverse), or KYC not approved",
  404: "No such object, or not one this key may see",
  409: "Conflict: an illegal status transition, a duplicate, or an Idempotency-Key reused with another request",
  410: "The task's deadline has passed",
  413: "The body, a photo or a form field is larger than allowed",
  415: "The Content-Type is not one this route accepts, or a photo is neither JPEG nor PNG",
  422: "A limit was exceeded: a live spend cap (per task or per 24 hours; `error.message` names it), too many photos in one upload, every proof attempt used, or a task changed or tipped too often",
  429: "Over the rate limit for this key (or client address): retry after `Retry-After` seconds",
  500: "Internal error; the message carries a reference to quote to support",
};

/**
 * REST runs fixed documents that stay within the GraphQL query budget, so it never answers QUERY_TOO_COMPLEX; the
 * document describes callers with an API key, which never meet the web app's session cookie check (CSRF_TOKEN_INVALID).
 */
const UNDOCUMENTED = new Set<string>(["QUERY_TOO_COMPLEX", "CSRF_TOKEN_INVALID"]);
const STATUS_CODES = Object.fromEntries(
  Object.entries(HTTP_STATUS)
    .filter(([code]) => !UNDOCUMENTED.has(code))
    .map(([code, status]) => [status, code as ErrorCode]),
) as Record<number, ErrorCode>;

const RATE_LIMIT_HEADERS = {
  "X-RateLimit-Limit": { $ref: "#/components/headers/X-RateLimit-Limit" },
  "X-RateLimit-Remaining": { $ref: "#/components/headers/X-RateLimit-Remaining" },
  "X-RateLimit-Reset": { $ref: "#/components/headers/X-RateLimit-Reset" },
};

const integerHeader = (description: string) => ({ description, required: true, schema: { type: "string", pattern: "^\\d+$" } });

/**
 * Assembles the OpenAPI 3.1 document from the routes themselves, so every
 * route is described and nothing described is missing. Common responses
 * are added by rule: every call may answer 400, 429 and 500; calls that need
 * a key 401; calls with a body 413 and 415; POSTs, which take an
 * Idempotency-Key, 409.
 */
export function buildOpenApiDocument(resources: RestResource[], schema: GraphQLSchema): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of resources.flatMap((resource) => resource.routes)) {
    paths[route.path] ??= {};
    paths[route.path][route.method] = completeOperation(route);
  }
  const derived = Object.fromEntries(
    resources.flatMap((resource) => Object.entries(resource.inputs ?? {})).map(([name, input]) => [name, inputSchemaOf(schema, input.graphqlType, input.omit)]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "HumanOps REST API",
      version: "1.0.0",
      description:
        "Give an AI agent real-world capabilities: post a task with a USDC reward held in escrow, a verified human operator completes it and uploads photo proof, " +
        "the AI Guardian scores the proof and the escrow pays the operator. The REST API runs the same operations as the GraphQL API at /graphql. " +
        "JSON is snake_case; money is an exact decimal string of USD (USDC) in responses and a number or decimal string in requests.",
    },
    servers: [{ url: "/api/v1" }],
    security: [{ ApiKeyAuth: [] }],
    tags: [
      { name: "Agents", description: "Registration and balance of AI agents" },
      { name: "Tasks", description: "Posting, tracking, cancelling and reviewing tasks (agent keys)" },
      { name: "Operators", description: "Finding, accepting and proving tasks (operator keys)" },
      { name: "Webhooks", description: "Endpoints that receive signed task events, and their delivery log (agent keys)" },
      { name: "Meta", description: "This document" },
      { name: "Messages", description: "A task's thread between its agent and the operator holding it (agent and operator keys)" },
      { name: "Reputation", description: "Ratings both ways after a task ends, and each side's record (agent and operator keys)" },
      { name: "Admin", description: "Disputes and their decisions, and the audit log (platform admin keys, ho_admin_...)" },
    ],
    paths,
    components: {
      securitySchemes: {
        ApiKeyAuth: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          description:
            "A HumanOps key: ho_test_... (test mode: no real money, mock operators) or ho_live_.... `Authorization: Bearer <key>` works too. The Admin routes take a platform admin key, ho_admin_....",
        },
      },
      headers: {
        "X-RateLimit-Limit": integerHeader("Requests allowed per minute for this key (or client address without a key)"),
        "X-RateLimit-Remaining": integerHeader("Requests left in the current minute"),
        "X-RateLimit-Reset": integerHeader("When the current window ends, in Unix epoch seconds"),
        "Retry-After": integerHeader("Seconds to wait before retrying"),
      },
      parameters: {
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "Makes a retry safe: the same key with the same request replays the first answer (marked `Idempotent-Replayed: true`) for 24 hours; " +
            "the same key with a different request is 409. Use a fresh random value (e.g. a UUID) per new request.",
          schema: { type: "string", minLength: 1, maxLength: 255 },
        },
      },
      responses: Object.fromEntries(Object.keys(ERROR_DESCRIPTIONS).map((status) => [`Error${status}`, errorResponse(Number(status))])),
      schemas: {
        Error: errorSchema(Object.values(STATUS_CODES)),
        // The responses, from the zod schemas of server/api (z.toJSONSchema).
        ...componentSchemas(),
        ...Object.assign({}, ...resources.map((resource) => resource.schemas ?? {})),
        ...derived,
      },
    },
  };
}

/** GET /openapi.json: the document, served by the API it describes. */
export function openApiResource(document: () => OpenApiDocument): RestResource {
  return {
    routes: [
      {
        method: "get",
        path: "/openapi.json",
        operation: {
          operationId: "getOpenApiDocument",
          summary: "This OpenAPI 3.1 document",
          tags: ["Meta"],
          security: [],
          responses: {
            "200": jsonResponse("The document", {
              type: "object",
              required: ["openapi", "info", "paths"],
              properties: { openapi: { const: "3.1.0" }, info: { type: "object" }, paths: { type: "object" } },
            }),
          },
        },
        async handle() {
          return { status: 200, body: document() };
        },
      },
    ],
  };
}

function completeOperation(route: RestRoute): Operation & Record<string, unknown> {
  const operation = route.operation;
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: "path", required: true, schema: { type: "string" } }));
  const isPost = route.method === "post";
  const takesBody = operation.requestBody !== undefined;
  // 401 everywhere: a key that is presented must be valid even where none is needed.
  const common = [400, 401, ...(isPost ? [409] : []), ...(takesBody ? [413, 415] : []), 429, 500];
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    responses[status] = "$ref" in (response as object) ? response : { ...(response as object), headers: { ...RATE_LIMIT_HEADERS, ...(response as { headers?: object }).headers } };
  }
  for (const status of common) responses[String(status)] ??= errorRef(status);
  return {
    ...operation,
    parameters: [...pathParameters, ...(operation.parameters ?? []), ...(isPost ? [{ $ref: "#/components/parameters/IdempotencyKey" }] : [])],
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  } as Operation & Record<string, unknown>;
}

function errorSchema(codes: ErrorCode[]): JsonSchema {
  return {
    type: "object",
    required: ["error"],
    additionalProperties: false,
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        additionalProperties: false,
        properties: {
          code: codes.length === 1 ? { const: codes[0] } : { type: "string", enum: codes },
          message: { type: "string", description: "What went wrong, naming the field and the rule for bad input" },
          field: { type: "string", description: "The offending field as the request named it, e.g. reward_usd, location.lat, limit" },
        },
      },
    },
  };
}

function errorResponse(status: number): Record<string, unknown> {
  // A key that is not valid is refused before any budget is looked at, so a 401 may come without the budget's headers.
  const headers = status === 429 ? { ...RATE_LIMIT_HEADERS, "Retry-After": { $ref: "#/components/headers/Retry-After" } } : status === 401 ? {} : RATE_LIMIT_HEADERS;
  const paymentRequired = status === 402 ? { "PAYMENT-REQUIRED": { description: "x402 v2 payment requirements (base64 JSON: x402Version 2, accepts[] with scheme, network, asset, amount, payTo)", schema: { type: "string" } } } : {};
  return { description: ERROR_DESCRIPTIONS[status], headers: { ...headers, ...paymentRequired }, content: { "application/json": { schema: errorSchema([STATUS_CODES[status]]) } } };
}

// ── request bodies from GraphQL input types ───────────────────────────────────

const SCALARS: Record<string, JsonSchema> = {
  String: { type: "string" },
  ID: { type: "string" },
  Int: { type: "integer" },
  Float: { type: "number" },
  Boolean: { type: "boolean" },
  DateTimeISO: { type: "string", format: "date-time" },
  UsdAmount: { type: ["number", "string"], description: "USD (USDC), as a number (15) or a decimal string (\"12.50\"), at most 6 decimals" },
};

/** The JSON Schema of a GraphQL input type with snake_case field names; `omit` leaves out fields REST takes elsewhere (e.g. from a header). */
export function inputSchemaOf(schema: GraphQLSchema, typeName: string, omit: string[] = []): JsonSchema {
  const type = schema.getType(typeName);
  if (!isInputObjectType(type)) throw new Error(`GraphQL input type ${typeName} does not exist`);
  return inputObjectSchema(type, omit);
}

function inputObjectSchema(type: GraphQLInputObjectType, omit: string[]): JsonSchema {
  const fields = Object.values(type.getFields()).filter((field) => !omit.includes(field.name));
  return {
    type: "object",
    ...(type.description ? { description: type.description } : {}),
    required: fields.filter((field) => isNonNullType(field.type) && field.defaultValue === undefined).map((field) => snakeCase(field.name)),
    additionalProperties: false,
    properties: Object.fromEntries(
      fields.map((field) => {
        const fieldSchema = fieldTypeSchema(field.type);
        return [snakeCase(field.name), field.description ? { ...fieldSchema, description: field.description } : fieldSchema];
      }),
    ),
  };
}

function fieldTypeSchema(type: GraphQLInputType): JsonSchema {
  return isNonNullType(type) ? valueSchema(type.ofType) : orNull(valueSchema(type));
}

function valueSchema(type: GraphQLInputType): JsonSchema {
  if (isListType(type)) return { type: "array", items: fieldTypeSchema(type.ofType) };
  if (isInputObjectType(type)) return inputObjectSchema(type, []);
  if (isEnumType(type)) return { type: "string", enum: type.getValues().map((value) => value.name) };
  if (isScalarType(type) && SCALARS[type.name]) return SCALARS[type.name];
  throw new Error(`no JSON Schema for GraphQL input type ${String(type)}`);
}

function orNull(schema: JsonSchema): JsonSchema {
  const types = [schema.type].flat();
  return { ...schema, type: [...types, "null"], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
}
