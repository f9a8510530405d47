import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import ts from "typescript";
import { Validator } from "@seriousme/openapi-schema-validator";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient } from "../support/rest-client";

const ROOT = path.resolve(__dirname, "..", "..");

/** The ```ts blocks of the README's "## REST API" section. */
function readmeTypeScript(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## REST API");
  expect(start, "README.md has a ## REST API section").to.be.greaterThan(-1);
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

/** Type-checks each source next to the generated `humanops-api.d.ts`, in one program; returns each one's complaints. */
function typeCheck(dir: string, sources: string[]): string[][] {
  const files = sources.map((source, i) => {
    const file = path.join(dir, `example-${i}.ts`);
    fs.writeFileSync(file, source);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts"],
    types: ["node"],
    typeRoots: [path.join(ROOT, "node_modules", "@types")],
    skipLibCheck: true,
  });
  return files.map((file) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
  );
}

for (const db of testDatabases()) {
  describe(`REST API: the OpenAPI 3.1 document (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let document: Record<string, any>;

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      document = (await rest.get("/openapi.json")).body;
    });
    after(() => server.stop());

    it("is a valid OpenAPI 3.1 document", async () => {
      const validator = new Validator();
      const result = await validator.validate(document);
      expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).to.deep.equal([]);
      expect(result.valid).to.equal(true);
      expect(validator.version).to.equal("3.1");
    });

    it("describes every route, each with its error responses in the one error shape", () => {
      const operations = Object.entries<Record<string, any>>(document.paths).flatMap(([route, item]) =>
        Object.entries<any>(item).map(([method, op]) => `${method.toUpperCase()} ${route} ${op.operationId}`),
      );
      expect(operations.sort()).to.deep.equal([
        "GET /agents/balance getAgentBalance",
        "GET /agents/record getAgentRecord",
        "GET /openapi.json getOpenApiDocument",
        "GET /operators/record getOperatorRecord",
        "GET /operators/tasks listMyTasks",
        "GET /operators/tasks/available listAvailableTasks",
        "GET /tasks listTasks",
        "GET /tasks/{id} getTask",
        "GET /tasks/{id}/messages getTaskMessages",
        "GET /tasks/{id}/messages/{messageId}/photos/{n} getMessagePhoto",
        "GET /tasks/{id}/proof/photos/{n} getProofPhoto",
        "POST /agents/register registerAgent",
        "POST /operators/kyc startKyc",
        "POST /operators/register registerOperator",
        "POST /tasks postTask",
        "POST /tasks/{id}/accept acceptTask",
        "POST /tasks/{id}/cancel cancelTask",
        "POST /tasks/{id}/messages sendMessage",
        "POST /tasks/{id}/proof submitProof",
        "POST /tasks/{id}/rating rateTask",
        "POST /tasks/{id}/release releaseTask",
        "POST /tasks/{id}/review reviewTask",
        "GET /webhooks/endpoints listWebhookEndpoints",
        "POST /webhooks/endpoints createWebhookEndpoint",
        "POST /webhooks/endpoints/{id}/rotate-secret rotateWebhookEndpointSecret",
        "GET /webhooks/endpoints/{id} getWebhookEndpoint",
        "PATCH /webhooks/endpoints/{id} updateWebhookEndpoint",
        "DELETE /webhooks/endpoints/{id} deleteWebhookEndpoint",
        "GET /webhooks/deliveries listWebhookDeliveries",
        "GET /webhooks/deliveries/{id} getWebhookDelivery",
        "POST /webhooks/deliveries/{id}/redeliver redeliverWebhook",
        "GET /webhooks/event-types listWebhookEventTypes",
        "POST /tasks/{id}/dispute disputeTask",
        "GET /admin/disputes listDisputes",
        "POST /admin/disputes/{task_id}/decision decideDispute",
        "GET /admin/audit-log adminAuditLog",
        "PATCH /tasks/{id} changeTask",
        "POST /tasks/{id}/tip tipTask",
      ].sort());
      const postTask = document.paths["/tasks"].post;
      expect(Object.keys(postTask.responses)).to.deep.equal(["201", "400", "401", "402", "403", "409", "413", "415", "422", "429", "500"]);
      expect(postTask.parameters).to.deep.include({ $ref: "#/components/parameters/IdempotencyKey" });
      expect(document.components.responses.Error429.headers).to.have.property("Retry-After");
      expect(document.components.schemas.PostTaskRequest.required).to.have.members(["title", "description", "task_type", "location", "reward_usd", "deadline"]);
    });

    it("fails a response the document does not describe, so the suites' checks can fail", () => {
      const headers = new Headers({ "X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1" });
      const error = { error: { code: "NOT_FOUND", message: "task x not found" } };
      expect(() => rest.contract.check("get", "/tasks/x", 404, headers, error)).not.to.throw();
      expect(() => rest.contract.check("get", "/tasks/x", 404, headers, { error: { code: "CONFLICT", message: "wrong code for 404" } })).to.throw(/breaks the document/);
      expect(() => rest.contract.check("get", "/tasks/x", 418, headers, error)).to.throw(/lists no 418 response/);
      expect(() => rest.contract.check("get", "/tasks/x", 200, headers, { task_id: "x" })).to.throw(/breaks the document/);
      expect(() => rest.contract.check("get", "/tasks/x", 404, new Headers(), error)).to.throw(/required header X-RateLimit-Limit/);
      expect(() => rest.contract.check("get", "/nowhere", 200, headers, {})).to.throw(/must be 404/);
    });

  });
}

describe("REST API: a client generated from the OpenAPI document", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer(testDatabases()[0]);
  });
  after(() => server.stop());

  it("type-checks the README's TypeScript examples (types by openapi-typescript)", async function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-openapi-"));
    try {
      fs.writeFileSync(path.join(dir, "openapi.json"), await (await fetch(`${server.url}/api/v1/openapi.json`)).text());
      const cli = path.join(path.dirname(require.resolve("openapi-typescript/package.json")), "bin", "cli.js");
      await promisify(execFile)(process.execPath, [cli, path.join(dir, "openapi.json"), "-o", path.join(dir, "humanops-api.d.ts")]);
      const examples = readmeTypeScript();
      expect(examples, "the README has a typed TypeScript example").to.have.length.greaterThan(0);
      const typo = examples.map((example) => example.replace("task.task_id", "task.taskId")).find((example, i) => example !== examples[i]);
      expect(typo, "an example reads task.task_id").to.be.a("string");

      const problems = typeCheck(dir, [...examples, typo!]);
      examples.forEach((_, i) => expect(problems[i], `README example ${i + 1}`).to.deep.equal([]));
      expect(problems.at(-1)!.join("\n"), "the generated types catch a misspelt field").to.match(/taskId/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
