import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { IdempotencyRecord } from "../../server/rest/idempotency.entity";
import { IdempotencyJobs } from "../../server/rest/idempotency.store";
import { enqueue } from "../../server/jobs/job.queue";
import { Task } from "../../server/tasks/task.entity";

for (const db of testDatabases()) {
  describe(`REST API: Idempotency-Key (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("retrier");
    });
    after(() => server.stop());

    const taskCount = async (agentId: string) => server.app.orm.em.fork().count(Task, { agent: agentId });
    const balance = async (apiKey: string) => (await rest.get("/agents/balance", apiKey)).body.balance_usd as string;

    it("replays the first answer for the same key and body, and posts one task", async () => {
      const key = randomUUID();
      const body = restTaskBody({ test_scenario: "MANUAL" });
      const before = await taskCount(agent.id);
      const first = await rest.post("/tasks", body, agent.apiKey, { "Idempotency-Key": key });
      const second = await rest.post("/tasks", { ...body }, agent.apiKey, { "Idempotency-Key": key });
      expect(first.status).to.equal(201);
      expect(second.status).to.equal(201);
      expect(second.body).to.deep.equal(first.body);
      expect(first.headers.get("Idempotent-Replayed")).to.equal(null);
      expect(second.headers.get("Idempotent-Replayed")).to.equal("true");
      expect(await taskCount(agent.id)).to.equal(before + 1);
    });

    it("treats a body with its keys in another order as the same request", async () => {
      const key = randomUUID();
      const body = restTaskBody({ test_scenario: "MANUAL" });
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const first = await rest.post("/tasks", body, agent.apiKey, { "Idempotency-Key": key });
      const second = await rest.post("/tasks", reordered, agent.apiKey, { "Idempotency-Key": key });
      expect(second.body.task_id).to.equal(first.body.task_id);
    });

    it("refuses the same key with a different body (409) and posts nothing more", async () => {
      const key = randomUUID();
      const first = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey, { "Idempotency-Key": key });
      const count = await taskCount(agent.id);
      const other = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", reward_usd: 16 }), agent.apiKey, { "Idempotency-Key": key });
      expect(other.status).to.equal(409);
      expect(other.body.error).to.deep.equal({ code: "CONFLICT", message: "this Idempotency-Key was already used with a different request; use a new key for a new request" });
      expect(await taskCount(agent.id)).to.equal(count);
      expect((await rest.get(`/tasks/${first.body.task_id}`, agent.apiKey)).body.reward_usd).to.equal("15.00");
    });

    it("scopes keys to the API key: another agent's identical request is its own", async () => {
      const key = randomUUID();
      const other = await rest.registerAgent("other-retrier");
      const mine = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey, { "Idempotency-Key": key });
      const theirs = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), other.apiKey, { "Idempotency-Key": key });
      expect(theirs.status).to.equal(201);
      expect(theirs.body.task_id).not.to.equal(mine.body.task_id);
    });

    it("50 concurrent identical retries create one task and charge the balance once", async () => {
      const retrier = await rest.registerAgent("storm");
      const key = randomUUID();
      const body = restTaskBody({ test_scenario: "MANUAL", reward_usd: 10 });
      const answers = await Promise.all(Array.from({ length: 50 }, () => rest.post("/tasks", body, retrier.apiKey, { "Idempotency-Key": key })));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(201));
      expect(new Set(answers.map((a) => a.body.task_id)).size).to.equal(1);
      expect(answers.filter((a) => a.headers.get("Idempotent-Replayed") === "true")).to.have.length(49);
      expect(await taskCount(retrier.id)).to.equal(1);
      expect(await balance(retrier.apiKey)).to.equal("9989.00");
    });

    it("keeps a registration's answer sealed: the replay carries the API key, the database row does not", async () => {
      const key = randomUUID();
      const body = { name: "sealed", email: `sealed-${randomUUID()}@agents.test` };
      const first = await rest.post("/agents/register", body, undefined, { "Idempotency-Key": key });
      const replay = await rest.post("/agents/register", body, undefined, { "Idempotency-Key": key });
      expect(replay.status).to.equal(201);
      expect(replay.body.api_key).to.equal(first.body.api_key);
      const rows = await server.app.orm.em.fork().find(IdempotencyRecord, { scope: "anonymous" });
      const stored = JSON.stringify(rows);
      expect(rows.length).to.be.greaterThan(0);
      expect(stored).not.to.include(first.body.api_key);
      expect(stored).not.to.include(key);
    });

    it("replays an answered error too, and does not keep answers that may change (401)", async () => {
      const key = randomUUID();
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      await rest.post(`/tasks/${created.body.task_id}/cancel`, {}, agent.apiKey);
      const first = await rest.post(`/tasks/${created.body.task_id}/cancel`, {}, agent.apiKey, { "Idempotency-Key": key });
      const again = await rest.post(`/tasks/${created.body.task_id}/cancel`, {}, agent.apiKey, { "Idempotency-Key": key });
      expect([first.status, again.status]).to.deep.equal([409, 409]);
      expect(again.headers.get("Idempotent-Replayed")).to.equal("true");

      const anonymousKey = randomUUID();
      expect((await rest.post("/tasks", restTaskBody(), undefined, { "Idempotency-Key": anonymousKey })).status).to.equal(401);
      const later = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey, { "Idempotency-Key": anonymousKey });
      expect(later.status).to.equal(201);
    });

    it("replays a proof upload instead of submitting a second attempt", async () => {
      const operator = await rest.registerOperator("uploader");
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", proof_requirements: ["1 photo of the door"] }), agent.apiKey);
      await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      const key = randomUUID();
      const photo = generatePhoto(21);
      const upload = () => rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm([photo], "door"), headers: { "Idempotency-Key": key } });
      const first = await upload();
      const second = await upload();
      expect([first.status, second.status]).to.deep.equal([202, 202]);
      expect(second.body).to.deep.equal(first.body);
      const other = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, {
        apiKey: operator.testApiKey,
        form: proofForm([generatePhoto(22)], "door"),
        headers: { "Idempotency-Key": key },
      });
      expect(other.status, "another photo under the same key is another request").to.equal(409);
      const task = await rest.waitForStatus(agent.apiKey, created.body.task_id, ["PAID"]);
      expect(task.attempts).to.equal(1);
    });

    it("forgets answers after a day: the purge job deletes expired keys", async () => {
      const em = server.app.orm.em.fork();
      const expired = new IdempotencyRecord("purge-test", "f".repeat(64), "0".repeat(64), 0, Date.now() - 1);
      const fresh = new IdempotencyRecord("purge-test", "e".repeat(64), "0".repeat(64), 0, Date.now() + 60_000);
      await em.persist([expired, fresh]).flush();
      enqueue(em, IdempotencyJobs.purge, {}, { dedupeKey: `purge-test:${randomUUID()}` });
      await em.flush();
      for (let i = 0; i < 200 && (await em.fork().count(IdempotencyRecord, { id: expired.id })); i++) await new Promise((r) => setTimeout(r, 25));
      expect(await em.fork().count(IdempotencyRecord, { scope: "purge-test" })).to.equal(1);
    });
  });
}
