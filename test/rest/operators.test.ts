import { createHash } from "node:crypto";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { ProofPhoto } from "../../server/proofs/proof.entity";

for (const db of testDatabases()) {
  describe(`REST API: operators (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };
    let operator: { testApiKey: string; liveApiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("poster");
      operator = await rest.registerOperator("walker");
    });
    after(() => server.stop());

    it("registers an operator with a test key and a live key: KYC pending for live tasks, not required for test tasks", async () => {
      const res = await rest.post("/operators/register", { name: "Dana", email: "dana@operators.test", payout_address: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ name: "Dana", kyc_status: "PENDING", test_kyc_status: "NOT_REQUIRED", payout_address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
      expect(res.body.test_api_key).to.match(/^ho_test_/);
      expect(res.body.live_api_key).to.match(/^ho_live_/);
    });

    it("finds a task nearby, accepts it and uploads photo proof as multipart; the Guardian verifies and the task is paid", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", proof_requirements: ["2 photos of the entrance", "Short note on the signage"] }), agent.apiKey);
      const nearby = await rest.get("/operators/tasks/available?lat=30.27&lng=-97.74&radius_km=5", operator.testApiKey);
      expect(nearby.status).to.equal(200);
      const found = nearby.body.tasks.find((t: any) => t.task_id === created.body.task_id);
      expect(found, "the task is offered nearby").to.exist;
      expect(found.distance_km).to.be.within(0, 1);

      const accepted = await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      expect(accepted.status).to.equal(200);
      expect(accepted.body).to.include({ status: "ACCEPTED", operator_id: operator.id });

      const sent = [generatePhoto(11), generatePhoto(12)];
      const upload = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, {
        apiKey: operator.testApiKey,
        form: proofForm(sent, "Sign reads 'Main St Bakery'"),
      });
      expect(upload.status).to.equal(202);
      // The hash the upload took as the bytes arrived is the hash of the bytes sent, photo by photo, and so are the sizes.
      const stored = await server.app.orm.em.fork().find(ProofPhoto, { proof: { task: created.body.task_id } }, { orderBy: { position: "asc" } });
      expect(stored.map((photo) => [photo.sha256, photo.byteSize])).to.deep.equal(sent.map((photo) => [createHash("sha256").update(photo).digest("hex"), photo.length]));
      expect(upload.body).to.include({ status: "SUBMITTED", attempts: 1 });
      expect(upload.body.proof.notes).to.equal("Sign reads 'Main St Bakery'");
      expect(upload.body.proof.photos.map((p: any) => p.content_type)).to.deep.equal(["image/png", "image/png"]);

      const paid = await rest.waitForStatus(agent.apiKey, created.body.task_id, ["PAID"]);
      expect(paid.verification).to.include({ verdict: "APPROVE" });
      expect(paid.events.map((e: any) => e.kind)).to.deep.equal(["STATUS_CHANGED", "ESCROW_FUNDED", "STATUS_CHANGED", "STATUS_CHANGED", "STATUS_CHANGED", "STATUS_CHANGED"]);
      expect(paid.events[2]).to.include({ to_status: "ACCEPTED", actor_type: "OPERATOR", actor_id: operator.id });
      const seen = await rest.get(`/tasks/${created.body.task_id}`, operator.testApiKey);
      expect(seen.body.proof.attempt, "the operator holding the task sees its proof").to.equal(1);
    });

    it("takes the documented maximum of 10 photos with notes in one upload, and refuses an 11th photo naming the limit", async () => {
      const acceptedTask = async () => {
        const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
        await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
        return created.body.task_id as string;
      };
      const photos = Array.from({ length: 11 }, (_, i) => generatePhoto(40 + i, 32, 32));
      const tooMany = await acceptedTask();
      const refused = await rest.request("POST", `/tasks/${tooMany}/proof`, { apiKey: operator.testApiKey, form: proofForm(photos, "one photo too many") });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error).to.include({ code: "LIMIT_EXCEEDED", field: "photos", message: "photos: at most 10 files per request" });

      const taskId = await acceptedTask();
      const upload = await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: proofForm(photos.slice(0, 10), "all four corners, twice") });
      expect(upload.status, JSON.stringify(upload.body)).to.equal(202);
      expect(upload.body.proof.photos).to.have.length(10);
      expect(upload.body.proof.notes).to.equal("all four corners, twice");
      const stored = await server.app.orm.em.fork().find(ProofPhoto, { proof: { task: taskId } }, { orderBy: { position: "asc" } });
      expect(stored.map((photo) => photo.sha256)).to.deep.equal(photos.slice(0, 10).map((photo) => createHash("sha256").update(photo).digest("hex")));
    });

    it("offers only open tasks of the key's mode within the radius, filtered by type", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", task_type: "INSPECTION", location: { lat: 39.7392, lng: -104.9903 } }), agent.apiKey);
      const near = await rest.get("/operators/tasks/available?lat=39.74&lng=-104.99&task_type=INSPECTION", operator.testApiKey);
      expect(near.body.tasks.map((t: any) => t.task_id)).to.include(created.body.task_id);
      const otherType = await rest.get("/operators/tasks/available?lat=39.74&lng=-104.99&task_type=PHOTO", operator.testApiKey);
      expect(otherType.body.tasks.map((t: any) => t.task_id)).not.to.include(created.body.task_id);
      const far = await rest.get("/operators/tasks/available?lat=30.27&lng=-97.74&radius_km=50", operator.testApiKey);
      expect(far.body.tasks.map((t: any) => t.task_id)).not.to.include(created.body.task_id);
      const live = await rest.get("/operators/tasks/available?lat=39.74&lng=-104.99", operator.liveApiKey);
      expect(live.body.tasks.map((t: any) => t.task_id), "a live key sees no test tasks").not.to.include(created.body.task_id);
    });

    it("shows an operator its reward and never the agent's fee or total, on every route it uses", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      expect(created.body).to.include({ reward_usd: "15.00", fee_usd: "1.50", total_usd: "16.50" });
      const hidden = { reward_usd: "15.00", fee_usd: null, total_usd: null };
      const nearby = await rest.get("/operators/tasks/available?lat=30.27&lng=-97.74", operator.testApiKey);
      expect(nearby.body.tasks.find((t: any) => t.task_id === created.body.task_id)).to.include(hidden);
      expect((await rest.get(`/tasks/${created.body.task_id}`, operator.testApiKey)).body).to.include(hidden);
      expect((await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey })).body).to.include(hidden);
      const mine = await rest.get("/operators/tasks", operator.testApiKey);
      expect(mine.body.tasks.find((t: any) => t.task_id === created.body.task_id)).to.include(hidden);
      expect((await rest.get(`/tasks/${created.body.task_id}`, agent.apiKey)).body, "the agent still sees them").to.include({ fee_usd: "1.50", total_usd: "16.50" });
    });

    it("lists the operator's own tasks by status, page by page with a cursor; a released task is POSTED again and no longer theirs", async () => {
      const holder = await rest.registerOperator("holder");
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: holder.testApiKey })).status).to.equal(200);
        ids.unshift(created.body.task_id);
      }
      const first = await rest.get("/operators/tasks?limit=2", holder.testApiKey);
      expect(first.status).to.equal(200);
      expect(first.body.tasks.map((t: any) => t.task_id)).to.deep.equal(ids.slice(0, 2));
      expect(first.body.pagination).to.include({ limit: 2, total: 3, has_more: true });
      const second = await rest.get(`/operators/tasks?limit=2&after=${encodeURIComponent(first.body.pagination.next_cursor)}`, holder.testApiKey);
      expect(second.body.tasks.map((t: any) => t.task_id)).to.deep.equal(ids.slice(2));
      expect(second.body.pagination).to.include({ has_more: false, next_cursor: null });

      const released = await rest.post(`/tasks/${ids[0]}/release`, { reason: "cannot get there today" }, holder.testApiKey);
      expect(released.status).to.equal(200);
      expect(released.body).to.include({ status: "POSTED", operator_id: null });
      expect(released.body.events.at(-1)).to.include({ from_status: "ACCEPTED", to_status: "POSTED", actor_type: "OPERATOR", actor_id: holder.id, reason: "cannot get there today" });
      const accepted = await rest.get("/operators/tasks?status=ACCEPTED", holder.testApiKey);
      expect(accepted.body.tasks.map((t: any) => t.task_id)).to.deep.equal(ids.slice(1));
      expect((await rest.request("POST", `/tasks/${ids[0]}/accept`, { apiKey: operator.testApiKey })).status, "open to others again").to.equal(200);
      const again = await rest.post(`/tasks/${ids[0]}/release`, {}, holder.testApiKey);
      expect(again.status, "no longer theirs to release").to.equal(404);
      const agentTries = await rest.get("/operators/tasks", agent.apiKey);
      expect(agentTries.status).to.equal(403);
    });

    it("lets exactly one of two racing operators accept a task; the other gets 409", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const rival = await rest.registerOperator("rival");
      const results = await Promise.all(
        [operator.testApiKey, rival.testApiKey].map((apiKey) => rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey })),
      );
      expect(results.map((r) => r.status).sort()).to.deep.equal([200, 409]);
    });
  });
}
