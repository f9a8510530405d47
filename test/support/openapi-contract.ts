import { expect } from "chai";
import type { ValidateFunction } from "ajv/dist/2020";
import { createDocumentAjv, documentPointer } from "../../server/rest/request.validator";

type Json = Record<string, any>;

/**
 * Holds the REST API to its OpenAPI document: every response a suite
 * receives must be one the document lists for that route and status, with a
 * body valid against its schema (JSON Schema 2020-12, by ajv) and every
 * header it marks required. A path the document does not know must be a
 * 404 in the error shape.
 */
export class OpenApiContract {
  private readonly ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; pattern: RegExp }>;

  constructor(readonly document: Json) {
    this.ajv = createDocumentAjv(document);
    this.templates = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`),
    }));
  }

  /** `path` is relative to the API base, e.g. "/tasks/123?limit=2". */
  check(method: string, path: string, status: number, headers: Headers, body: unknown): void {
    const route = this.operationOf(method, path.split("?")[0]);
    const where = `${method.toUpperCase()} ${path} → ${status}`;
    if (!route) {
      expect(status, `${where}: a route the document does not describe must be 404`).to.equal(404);
      return this.validate("components/schemas/Error", documentPointer("components", "schemas", "Error"), body, where);
    }
    let responsePointer = ["paths", route.template, method, "responses", String(status)];
    let response = route.operation.responses[String(status)];
    expect(response, `${where}: the document lists no ${status} response for ${method.toUpperCase()} ${route.template}`).to.exist;
    if (response.$ref) {
      responsePointer = response.$ref.slice(2).split("/");
      response = this.resolve(response.$ref);
    }
    for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
      const resolved = header.$ref ? this.resolve(header.$ref) : header;
      if (resolved.required) expect(headers.get(name), `${where}: required header ${name}`).to.be.a("string");
    }
    if (response.content?.["application/json"]) {
      this.validate(responsePointer.join("/"), documentPointer(...responsePointer, "content", "application/json", "schema"), body, where);
    }
  }

  private operationOf(method: string, path: string): { template: string; operation: Json } | undefined {
    // A literal path ("/operators/tasks/available") wins over a template that also matches it.
    const matches = this.templates.filter((t) => t.pattern.test(path) && this.document.paths[t.template][method]);
    const best = matches.find((t) => !t.template.includes("{")) ?? matches[0];
    return best && { template: best.template, operation: this.document.paths[best.template][method] };
  }

  private resolve(ref: string): Json {
    return ref
      .slice(2)
      .split("/")
      .reduce((node: Json, segment) => node[segment.replace(/~1/g, "/").replace(/~0/g, "~")], this.document);
  }

  private validate(key: string, pointer: string, body: unknown, where: string): void {
    let validator = this.validators.get(key);
    if (!validator) {
      validator = this.ajv.compile({ $ref: pointer });
      this.validators.set(key, validator);
    }
    const valid = validator(body);
    expect(valid, `${where}: the body breaks the document: ${this.ajv.errorsText(validator.errors)}\n${JSON.stringify(body).slice(0, 2_000)}`).to.equal(true);
  }
}
