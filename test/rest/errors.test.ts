import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, proofForm, restTaskBody, type RestResult } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { Task } from "../../server/tasks/task.entity";

/** Small limits so that "too large" and "too many" are cheap to reach. */
const LIMITS_ENV = { REST_MAX_JSON_BODY_BYTES: "2048", MAX_PHOTO_BYTES: "4096", MAX_PHOTOS_PER_PROOF: "2" };

function expectError(res: RestResult, status: number, code: string, field?: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body.error.code).to.equal(code);
  if (field) {
    expect(res.body.error.field).to.equal(field);
    expect(res.body.error.message.startsWith(`${field}: `), `the message names the field: ${res.body.error.message}`).to.equal(true);
  }
}

for (const db of testDatabases()) {
  describe(`REST API: errors, one shape with the right status (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };
    let operator: { testApiKey: string; liveApiKey: string; id: string };
    const smallPhoto = generatePhoto(3, 16, 16);

    before(async () => {
      server = await startServer(db, LIMITS_ENV);
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("errors");
      operator = await rest.registerOperator("errors-operator");
    });
    after(() => server.stop());

    const acceptedTask = async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      return created.body.task_id as string;
    };

    it("400 names the field as REST spells it, whether the document or the domain rule caught it", async () => {
      expectError(await rest.post("/tasks", restTaskBody({ title: undefined }), agent.apiKey), 400, "BAD_USER_INPUT", "title");
      expectError(await rest.post("/tasks", restTaskBody({ title: "  " }), agent.apiKey), 400, "BAD_USER_INPUT", "title");
      expectError(await rest.post("/tasks", restTaskBody({ reward_usd: "-5" }), agent.apiKey), 400, "BAD_USER_INPUT", "reward_usd");
      expectError(await rest.post("/tasks", restTaskBody({ reward_usd: 1.1234567 }), agent.apiKey), 400, "BAD_USER_INPUT", "reward_usd");
      expectError(await rest.post("/tasks", restTaskBody({ location: { lat: 91, lng: 0 } }), agent.apiKey), 400, "BAD_USER_INPUT", "location.lat");
      expectError(await rest.post("/tasks", restTaskBody({ location: { lat: "north", lng: 0 } }), agent.apiKey), 400, "BAD_USER_INPUT", "location.lat");
      expectError(await rest.post("/tasks", restTaskBody({ task_type: "ROCKET" }), agent.apiKey), 400, "BAD_USER_INPUT", "task_type");
      expectError(await rest.post("/tasks", restTaskBody({ proof_requirements: ["ok", ""] }), agent.apiKey), 400, "BAD_USER_INPUT", "proof_requirements[1]");
      expectError(await rest.post("/tasks", restTaskBody({ deadline: "tomorrow" }), agent.apiKey), 400, "BAD_USER_INPUT", "deadline");
      expectError(await rest.post("/tasks", restTaskBody({ deadline: "2020-01-01T00:00:00Z" }), agent.apiKey), 400, "BAD_USER_INPUT", "deadline");
      expectError(await rest.post("/tasks", restTaskBody({ colour: "red" }), agent.apiKey), 400, "BAD_USER_INPUT", "colour");
      expectError(await rest.request("POST", "/tasks", { apiKey: agent.apiKey, raw: "{oops", headers: { "Content-Type": "application/json" } }), 400, "BAD_USER_INPUT", "body");
      expectError(await rest.request("POST", "/tasks", { apiKey: agent.apiKey }), 400, "BAD_USER_INPUT", "body");
      expectError(await rest.get("/tasks?limit=0", agent.apiKey), 400, "BAD_USER_INPUT", "limit");
      expectError(await rest.get("/tasks?status=DONE", agent.apiKey), 400, "BAD_USER_INPUT", "status");
      expectError(await rest.get("/tasks?page=2", agent.apiKey), 400, "BAD_USER_INPUT", "page");
      expectError(await rest.get("/operators/tasks/available?lat=95&lng=0", operator.testApiKey), 400, "BAD_USER_INPUT", "lat");
      expectError(await rest.get("/operators/tasks/available?lat=1&lng=0&radius_km=0", operator.testApiKey), 400, "BAD_USER_INPUT", "radius_km");
      expectError(await rest.get("/operators/tasks/available?lng=0", operator.testApiKey), 400, "BAD_USER_INPUT", "lat");
      expectError(await rest.post("/agents/register", { name: "x", email: "not-an-email" }), 400, "BAD_USER_INPUT", "email");
      expectError(await rest.post("/operators/register", { name: "x", email: "x@y.io", payout_address: "0x123" }), 400, "BAD_USER_INPUT", "payout_address");
      expectError(await rest.post("/tasks", restTaskBody(), agent.apiKey, { "Idempotency-Key": "x".repeat(256) }), 400, "BAD_USER_INPUT", "Idempotency-Key");
      const review = await rest.post(`/tasks/${randomUUID()}/review`, { decision: "MAYBE" }, agent.apiKey);
      expectError(review, 400, "BAD_USER_INPUT", "decision");
    });

    it("400 on a proof upload without photos or with unknown parts", async () => {
      const taskId = await acceptedTask();
      const empty = new FormData();
      empty.append("notes", "no photos");
      expectError(await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: empty }), 400, "BAD_USER_INPUT", "photos");
      const wrongField = new FormData();
      wrongField.append("photo", new Blob([smallPhoto], { type: "image/png" }), "a.png");
      expectError(await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: wrongField }), 400, "BAD_USER_INPUT", "photo");
    });

    it("401 without a key, with a malformed key and with an unknown key", async () => {
      expectError(await rest.post("/tasks", restTaskBody()), 401, "UNAUTHENTICATED");
      expectError(await rest.get("/tasks", "not-a-key"), 401, "UNAUTHENTICATED");
      expectError(await rest.get("/agents/balance", `ho_test_${"A".repeat(43)}`), 401, "UNAUTHENTICATED");
      const res = await rest.get("/tasks");
      expect(res.body.error.message).to.match(/X-API-Key/);
    });

    it("402 when the balance does not cover reward + fee, and nothing is posted", async () => {
      const poor = await rest.registerAgent("poor");
      const res = await rest.post("/tasks", restTaskBody({ reward_usd: 10_000 }), poor.apiKey);
      expectError(res, 402, "INSUFFICIENT_FUNDS");
      expect(res.body.error.message).to.match(/needs 11000\.00 USDC and 10000\.00 USDC is available/);
      expect((await rest.get("/tasks", poor.apiKey)).body.pagination.total).to.equal(0);
    });

    it("403 when an operator key calls an agent route, or an agent key an operator route", async () => {
      expectError(await rest.get("/tasks", operator.testApiKey), 403, "FORBIDDEN");
      expectError(await rest.post("/tasks", restTaskBody(), operator.testApiKey), 403, "FORBIDDEN");
      expectError(await rest.get("/agents/balance", operator.testApiKey), 403, "FORBIDDEN");
      expectError(await rest.get("/operators/tasks/available?lat=1&lng=1", agent.apiKey), 403, "FORBIDDEN");
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      expectError(await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: agent.apiKey }), 403, "FORBIDDEN");
    });

    it("404 for a task that does not exist and for a route that does not exist", async () => {
      expectError(await rest.get(`/tasks/${randomUUID()}`, agent.apiKey), 404, "NOT_FOUND");
      expectError(await rest.get("/tasks/not-a-uuid", agent.apiKey), 404, "NOT_FOUND");
      expectError(await rest.post(`/tasks/${randomUUID()}/cancel`, {}, agent.apiKey), 404, "NOT_FOUND");
      expectError(await rest.get("/teleport", agent.apiKey), 404, "NOT_FOUND");
      expectError(await rest.request("DELETE", `/tasks/${randomUUID()}`, { apiKey: agent.apiKey }), 404, "NOT_FOUND");
    });

    it("400 in the same shape for a path that is not valid URL encoding", async () => {
      expectError(await rest.get("/tasks/%E0%A4%A", agent.apiKey), 400, "BAD_USER_INPUT", "path");
    });

    it("409 for an illegal transition and for a duplicate registration", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const review = await rest.post(`/tasks/${created.body.task_id}/review`, { decision: "APPROVE" }, agent.apiKey);
      expectError(review, 409, "CONFLICT");
      expect(review.body.error.message).to.match(/only a MANUAL_REVIEW task can be reviewed; this task is POSTED/);
      const email = `twice-${randomUUID()}@agents.test`;
      expect((await rest.post("/agents/register", { name: "a", email })).status).to.equal(201);
      expectError(await rest.post("/agents/register", { name: "b", email }), 409, "CONFLICT");
    });

    it("410 when accepting or proving a task whose deadline has passed", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const held = await acceptedTask();
      // Time passes: both deadlines move into the past (the expiry job is scheduled for the original deadline).
      await server.app.orm.em.fork().nativeUpdate(Task, { id: { $in: [created.body.task_id, held] } }, { deadline: new Date(Date.now() - 1_000) });
      expectError(await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey }), 410, "DEADLINE_PASSED");
      const upload = await rest.request("POST", `/tasks/${held}/proof`, { apiKey: operator.testApiKey, form: proofForm([smallPhoto]) });
      expectError(upload, 410, "DEADLINE_PASSED");
    });

    it("413 for a JSON body or a photo over its limit", async () => {
      expectError(await rest.post("/tasks", restTaskBody({ description: "d".repeat(3_000) }), agent.apiKey), 413, "PAYLOAD_TOO_LARGE");
      const taskId = await acceptedTask();
      const big = Buffer.concat([smallPhoto, Buffer.alloc(5_000)]);
      expectError(await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: proofForm([big]) }), 413, "PAYLOAD_TOO_LARGE", "photos[0]");
    });

    it("415 for a body that is not the route's Content-Type, and for a photo that is not JPEG or PNG", async () => {
      const text = await rest.request("POST", "/tasks", { apiKey: agent.apiKey, raw: "title=x", headers: { "Content-Type": "text/plain" } });
      expectError(text, 415, "UNSUPPORTED_MEDIA_TYPE");
      expect(text.body.error.message).to.equal("Content-Type must be application/json (got text/plain)");
      const taskId = await acceptedTask();
      expectError(await rest.post(`/tasks/${taskId}/proof`, { photos: [] }, operator.testApiKey), 415, "UNSUPPORTED_MEDIA_TYPE");
      const notAnImage = proofForm([Buffer.from("GIF89a not really a photo")], undefined, "image/gif");
      expectError(await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: notAnImage }), 415, "UNSUPPORTED_MEDIA_TYPE", "photos[0]");
    });

    it("422 when an upload has more photos than a proof may carry", async () => {
      const taskId = await acceptedTask();
      const form = proofForm([generatePhoto(4, 16, 16), generatePhoto(5, 16, 16), generatePhoto(6, 16, 16)]);
      expectError(await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form }), 422, "LIMIT_EXCEEDED", "photos");
      const task = await rest.get(`/tasks/${taskId}`, operator.testApiKey);
      expect(task.body).to.include({ status: "ACCEPTED", attempts: 0 });
    });
  });
}
