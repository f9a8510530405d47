import type { Context } from "../graphql/context";
import type { PhotoUpload } from "../proofs/proof.service";

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = { [keyword: string]: unknown };

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

/** An OpenAPI operation as a route declares it; the common error responses are added by openapi.ts. */
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** `[]` for calls that need no API key, an empty option (`{}`) among others for a key-optional call (the route checks); omitted means the document's default (X-API-Key). */
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  /** Success responses and the route's own error statuses (e.g. 402, 404, 410). */
  responses: Record<string, unknown>;
}

/** What a multipart/form-data route reads: one repeatable file field and a few text fields, each within limits. */
export interface MultipartLimits {
  fileField: string;
  fileBytes: number;
  files: number;
  fields: readonly string[];
  fieldBytes: number;
}

export interface MultipartBody {
  fields: Record<string, string>;
  files: PhotoUpload[];
  /** Removes the files spooled to the photo store that the request did not keep (adopt); the router calls it once the request is answered. */
  discard(): Promise<void>;
}

export interface RestResponse {
  status: number;
  body: unknown;
  /** A binary answer instead of JSON (a photo). */
  file?: { data: Buffer; contentType: string; cacheSeconds: number };
  headers?: Record<string, string>;
}

export interface RestRequest {
  ctx: Context;
  params: Record<string, string>;
  /** Query parameters, validated, with their defaults filled in and numbers coerced. */
  query: Record<string, any>;
  /** The validated JSON body, or the parsed multipart form. */
  body: any;
  idempotencyKey?: string;
  /** An x402 v2 payment: the PAYMENT-SIGNATURE header. */
  paymentSignature?: string;
}

export interface RestRoute {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI path template under /api/v1, e.g. "/tasks/{id}". */
  path: string;
  operation: Operation;
  /** GraphQL argument names that have another name in this route (e.g. first → limit), for error fields. */
  fieldAliases?: Readonly<Record<string, string>>;
  /** For a multipart/form-data request body: the parts it reads. */
  multipart?: MultipartLimits;
  handle(req: RestRequest): Promise<RestResponse>;
}

/** JSON content of a response: `{ description, content: { "application/json": { schema } } }`. */
export function jsonResponse(description: string, schema: JsonSchema): Record<string, unknown> {
  return { description, content: { "application/json": { schema } } };
}

export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** A reference to one of the error responses of components.responses (see openapi.ts ERROR_RESPONSES). */
export function errorRef(status: number): Record<string, unknown> {
  return { $ref: `#/components/responses/Error${status}` };
}

export function errors(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(statuses.map((status) => [String(status), errorRef(status)]));
}

export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: "null" }] });

export const dateTime: JsonSchema = { type: "string", format: "date-time" };

/** An object whose every property is always present (possibly null) and nothing else. */
export function object(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { type: "object", ...(description ? { description } : {}), required: Object.keys(properties), additionalProperties: false, properties };
}
