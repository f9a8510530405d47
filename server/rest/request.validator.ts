import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { ValidationError } from "../common/errors";
import type { RestRoute } from "./rest.route";

export const OPENAPI_SCHEMA_ID = "openapi.json";

/** The OpenAPI document's own top-level members: not JSON Schema keywords, but ajv must accept them to resolve $refs into the document. */
const OPENAPI_MEMBERS = ["openapi", "info", "servers", "paths", "components", "security", "tags", "webhooks", "jsonSchemaDialect", "externalDocs"];

/** An ajv that knows the OpenAPI document, so `openapi.json#/...` references resolve into it. */
export function createDocumentAjv(document: object, options: { coerceTypes?: boolean; useDefaults?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true, ...options });
  addFormats(ajv);
  ajv.addFormat("binary", true);
  ajv.addVocabulary(OPENAPI_MEMBERS);
  ajv.addSchema(document, OPENAPI_SCHEMA_ID);
  return ajv;
}

/** A JSON pointer into the document, e.g. to `paths./tasks.post.requestBody`. */
export function documentPointer(...segments: string[]): string {
  return `${OPENAPI_SCHEMA_ID}#/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

export interface RouteValidator {
  /** Validates the query string against the route's query parameters; returns it with defaults filled in and numbers coerced. */
  query(raw: Record<string, unknown>): Record<string, unknown>;
  /** Validates a JSON body against the route's request body schema. */
  jsonBody(body: unknown): void;
}

/**
 * Validates requests against the served OpenAPI document itself, so the
 * document cannot promise what the API does not check. A failure names the
 * field as the client sent it and the rule it broke. Compiled once per
 * document and route in a process (one that starts many servers, as the
 * tests do, compiles each document once).
 */
export function createRequestValidator(document: object): (route: RestRoute) => RouteValidator {
  const text = JSON.stringify(document);
  let validatorFor = compiledByDocument.get(text);
  if (!validatorFor) {
    const compile = compileRequestValidator(document);
    const byRoute = new Map<string, RouteValidator>();
    validatorFor = (route) => {
      const key = `${route.method} ${route.path}`;
      let validator = byRoute.get(key);
      if (!validator) byRoute.set(key, (validator = compile(route)));
      return validator;
    };
    compiledByDocument.set(text, validatorFor);
  }
  return validatorFor;
}

/** The validators compiled so far, by the document's JSON text. */
const compiledByDocument = new Map<string, (route: RestRoute) => RouteValidator>();

function compileRequestValidator(document: object): (route: RestRoute) => RouteValidator {
  const queryAjv = createDocumentAjv(document, { coerceTypes: true, useDefaults: true });
  const bodyAjv = createDocumentAjv(document);
  return (route) => {
    const queryParameters = (route.operation.parameters ?? []).filter((p) => p.in === "query");
    const validateQuery = queryAjv.compile({
      type: "object",
      additionalProperties: false,
      required: queryParameters.filter((p) => p.required).map((p) => p.name),
      properties: Object.fromEntries(queryParameters.map((p) => [p.name, p.schema])),
    });
    const validateBody: ValidateFunction | undefined = route.operation.requestBody?.content["application/json"]
      ? bodyAjv.compile({ $ref: documentPointer("paths", route.path, route.method, "requestBody", "content", "application/json", "schema") })
      : undefined;
    return {
      query(raw) {
        const query = { ...raw };
        if (!validateQuery(query)) throw toValidationError(validateQuery.errors![0], "query parameter");
        return query;
      },
      jsonBody(body) {
        if (validateBody && !validateBody(body)) throw toValidationError(validateBody.errors![0], "field");
      },
    };
  };
}

/** "/location/lat" → "location.lat", "/proof_requirements/0" → "proof_requirements[0]". */
function fieldPath(instancePath: string, child?: string): string {
  const segments = instancePath.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) segments.push(child);
  return segments.reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), "");
}

function toValidationError(error: ErrorObject, kind: "field" | "query parameter"): ValidationError {
  const params = error.params;
  switch (error.keyword) {
    case "required":
      return new ValidationError(fieldPath(error.instancePath, params.missingProperty), "is required");
    case "additionalProperties":
      return new ValidationError(fieldPath(error.instancePath, params.additionalProperty), `is not a known ${kind}`);
    case "enum":
      return new ValidationError(fieldPath(error.instancePath) || "body", `must be one of ${params.allowedValues.filter((v: unknown) => v !== null).join(", ")}`);
    case "format":
      return new ValidationError(fieldPath(error.instancePath), params.format === "date-time" ? "must be an ISO-8601 date-time, e.g. 2026-02-07T18:00:00Z" : `must be a valid ${params.format}`);
    case "type":
      return new ValidationError(fieldPath(error.instancePath) || "body", `must be ${[params.type].flat().join(" or ")}`);
    default:
      return new ValidationError(fieldPath(error.instancePath) || "body", error.message ?? "is invalid");
  }
}
