import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/guardian/image";

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

    it("registers an operator with a test key and a live key, KYC pending", async () => {
      const res = await rest.post("/operators/register", { name: "Dana", email: "dana@operators.test", payout_address: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" });
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ name: "Dana", kyc_status: "PENDING", payout_address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
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

      const upload = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, {
        apiKey: operator.testApiKey,
        form: proofForm([generatePhoto(11), generatePhoto(12)], "Sign reads 'Main St Bakery'"),
      });
      expect(upload.status).to.equal(202);
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
