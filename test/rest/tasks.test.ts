import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody } from "../support/rest-client";
import { formatUsd, parseUsd } from "../../server/common/money";

/** The status changes of a task's event log (its ESCROW_FUNDED entry is asserted where its place is certain). */
const transitions = (task: Record<string, any>) => task.events.filter((e: any) => e.kind === "STATUS_CHANGED").map((e: any) => `${e.from_status ?? "∅"}→${e.to_status}`);

for (const db of testDatabases()) {
  describe(`REST API: agents and tasks (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("rest-agent");
    });
    after(() => server.stop());

    it("registers an agent with a test key shown once, and a test balance", async () => {
      const res = await rest.post("/agents/register", { name: "Storefront bot", email: "storefront-bot@agents.test" });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ name: "Storefront bot", email: "storefront-bot@agents.test", mode: "test" });
      expect(res.body.api_key).to.match(/^ho_test_/);
      const balance = await rest.get("/agents/balance", res.body.api_key);
      expect(balance.body).to.deep.equal({ agent_id: res.body.agent_id, mode: "test", balance_usd: "10000.00", currency: "USDC" });
    });

    it("posts a task (201 with task_id and status) that test mode walks to PAID, with events, proof and verification", async () => {
      const created = await rest.post("/tasks", restTaskBody(), agent.apiKey);
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ status: "POSTED", mode: "test", task_type: "PHOTO", reward_usd: "15.00", fee_usd: "1.50", total_usd: "16.50", currency: "USDC" });
      expect(created.body.task_id).to.match(/^[0-9a-f-]{36}$/);
      expect(created.body.location).to.deep.equal({ lat: 30.2672, lng: -97.7431, address: "123 Main St, Austin, TX" });
      expect(created.body.escrow, "funded on the local chain before the answer").to.deep.include({ status: "FUNDED", chain_id: 31337, network: "local", amount_usd: "16.50", basescan_url: null, payee: null });
      expect(created.body.escrow.fund_tx_hash).to.match(/^0x[0-9a-f]{64}$/);

      const paid = await rest.waitForStatus(agent.apiKey, created.body.task_id, ["PAID"]);
      expect(transitions(paid)).to.deep.equal(["∅→POSTED", "POSTED→ACCEPTED", "ACCEPTED→SUBMITTED", "SUBMITTED→VERIFIED", "VERIFIED→PAID"]);
      expect(paid.operator_id).to.be.a("string");
      expect(paid.proof).to.include({ attempt: 1 });
      expect(paid.proof.photos).to.have.length(2);
      expect(paid.verification).to.include({ score: 100, verdict: "APPROVE" });
      const evidence = paid.verification.checks.filter((c: any) => c.photo !== null);
      expect(evidence.map((c: any) => `${c.name}:${c.photo}:${c.outcome}`), "every evidence check of both photos, passed").to.have.members(
        ["location", "time", "reuse", "recapture"].flatMap((name) => [0, 1].map((photo) => `${name}:${photo}:PASS`)),
      );
      expect(paid.verification.checks.find((c: any) => c.name === "vision")).to.deep.equal({ name: "vision", outcome: "SKIPPED", detail: "no vision model is configured", photo: null });
      expect(paid.escrow, "released to the operator on chain").to.deep.include({ status: "RELEASED", fund_tx_hash: created.body.escrow.fund_tx_hash });
      expect(paid.escrow.release_tx_hash).to.match(/^0x[0-9a-f]{64}$/);
      expect(paid.escrow.payee).to.match(/^0x[0-9a-fA-F]{40}$/);
    });

    it("lists the agent's tasks newest first, filtered by status and type, with limit/offset pagination", async () => {
      const lister = await rest.registerAgent("lister");
      const ids: string[] = [];
      for (const title of ["first", "second", "third"]) {
        const res = await rest.post("/tasks", restTaskBody({ title, task_type: "DELIVERY", test_scenario: "MANUAL" }), lister.apiKey);
        ids.push(res.body.task_id);
      }
      await rest.post("/tasks", restTaskBody({ title: "photo", test_scenario: "MANUAL" }), lister.apiKey);

      const page1 = await rest.get("/tasks?task_type=DELIVERY&limit=2", lister.apiKey);
      expect(page1.status).to.equal(200);
      expect(page1.body.tasks.map((t: any) => t.title)).to.deep.equal(["third", "second"]);
      expect(page1.body.pagination).to.deep.equal({ limit: 2, offset: 0, total: 3, has_more: true });
      const page2 = await rest.get("/tasks?task_type=DELIVERY&limit=2&offset=2", lister.apiKey);
      expect(page2.body.tasks.map((t: any) => t.task_id)).to.deep.equal([ids[0]]);
      expect(page2.body.pagination).to.deep.equal({ limit: 2, offset: 2, total: 3, has_more: false });

      await rest.post(`/tasks/${ids[1]}/cancel`, { reason: "not needed" }, lister.apiKey);
      const cancelled = await rest.get("/tasks?status=CANCELLED", lister.apiKey);
      expect(cancelled.body.tasks.map((t: any) => t.task_id)).to.deep.equal([ids[1]]);
      expect(cancelled.body.pagination).to.deep.equal({ limit: 20, offset: 0, total: 1, has_more: false });
    });

    it("cancels a task and refunds reward + fee; cancelling again is an illegal transition (409)", async () => {
      const before = await rest.get("/agents/balance", agent.apiKey);
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", reward_usd: "2.5" }), agent.apiKey);
      expect((await rest.get("/agents/balance", agent.apiKey)).body.balance_usd).to.equal(formatUsd(parseUsd(before.body.balance_usd, "balance") - 2_750_000n));

      const cancelled = await rest.request("POST", `/tasks/${created.body.task_id}/cancel`, { apiKey: agent.apiKey });
      expect(cancelled.status).to.equal(200);
      expect(cancelled.body.status).to.equal("CANCELLED");
      expect(transitions(cancelled.body)).to.deep.equal(["∅→POSTED", "POSTED→CANCELLED"]);
      expect((await rest.get("/agents/balance", agent.apiKey)).body.balance_usd).to.equal(before.body.balance_usd);

      const again = await rest.post(`/tasks/${created.body.task_id}/cancel`, {}, agent.apiKey);
      expect(again.status).to.equal(409);
      expect(again.body.error.code).to.equal("CONFLICT");
      expect(again.body.error.message).to.match(/CANCELLED is final/);
    });

    it("takes the agent's manual-review decision: APPROVE pays the operator", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "REVIEW" }), agent.apiKey);
      const review = await rest.waitForStatus(agent.apiKey, created.body.task_id, ["MANUAL_REVIEW"]);
      expect(review.verification.verdict).to.equal("REVIEW");

      const decided = await rest.post(`/tasks/${created.body.task_id}/review`, { decision: "APPROVE", reason: "the facade is visible" }, agent.apiKey);
      expect(decided.status).to.equal(200);
      expect(["VERIFIED", "PAID"]).to.include(decided.body.status);
      const paid = await rest.waitForStatus(agent.apiKey, created.body.task_id, ["PAID"]);
      expect(paid.events.find((e: any) => e.to_status === "VERIFIED")).to.include({ actor_type: "AGENT", reason: "the facade is visible" });
    });

    it("never shows one agent's task to another (404, as for a task that does not exist)", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const other = await rest.registerAgent("other");
      const read = await rest.get(`/tasks/${created.body.task_id}`, other.apiKey);
      expect(read.status).to.equal(404);
      expect(read.body.error.code).to.equal("NOT_FOUND");
      const cancel = await rest.post(`/tasks/${created.body.task_id}/cancel`, {}, other.apiKey);
      expect(cancel.status).to.equal(404);
      expect((await rest.get("/tasks", other.apiKey)).body.pagination.total).to.equal(0);
    });

    it("accepts Authorization: Bearer as well as X-API-Key", async () => {
      const res = await rest.get("/agents/balance", undefined, { Authorization: `Bearer ${agent.apiKey}` });
      expect(res.status).to.equal(200);
      expect(res.body.agent_id).to.equal(agent.id);
    });
  });
}
