import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { FakeVision } from "../support/fake-vision";
import { RestClient, proofForm } from "../support/rest-client";
import { registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { mockPhoto } from "../../server/testmode/mock-photo";
import { KycStatus, Operator } from "../../server/operators/operator.entity";
import { CAPTURE_CODE_PATTERN } from "../../server/tasks/capture-code";
import { agentWithLiveDeposit, ownedChain, USDC, type OwnedChain } from "../chain/support/chain";

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id captureCode } }`;
const READ = `query($id: ID!) { task(id: $id) { status captureCode proofRequirements } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { captureCode proofRequirements } }`;
const POINT = { lat: 30.2672, lng: -97.7431 };

/**
 * The capture code end to end: who sees it (GraphQL and REST), and a live
 * proof scored by a vision model (the local fake of the Messages API) with
 * the code held up in a photo and without it.
 */
for (const db of testDatabases()) {
  describe(`capture code (${db.name})`, () => {
    let owned: OwnedChain;
    let fake: FakeVision;
    let server: TestServer;
    let rest: RestClient;

    before(async () => {
      owned = await ownedChain();
      fake = await FakeVision.start();
      server = await startServer(db, { ...owned.env("CHAIN_"), CHAIN_POLL_MS: "20", GUARDIAN_VISION_API_KEY: fake.apiKey, GUARDIAN_VISION_URL: fake.url, GUARDIAN_VISION_TIMEOUT_MS: "5000" });
      rest = await RestClient.connect(server.url);
    });
    after(async () => {
      await server?.stop();
      await fake?.stop();
      await owned?.stop();
    });

    /** A KYC-approved operator with a live key. */
    async function liveOperator(name: string): Promise<{ key: string; id: string }> {
      const operator = await registerOperator(server.client, name);
      await server.app.orm.em.fork().nativeUpdate(Operator, { id: operator.id }, { kycStatus: KycStatus.APPROVED });
      return { key: operator.liveApiKey, id: operator.id };
    }

    it("is issued on acceptance and shown only to the task's agent and the operator holding it, over GraphQL and REST; a release withdraws it", async () => {
      const agent = await agentWithLiveDeposit(server, owned, "code-viewer", USDC(100));
      const [holder, other] = [await liveOperator("holder"), await liveOperator("other")];
      const { postTask } = await server.client.ok(POST, { input: taskInput({ rewardUsd: 10 }) }, agent.liveKey);
      expect(postTask.captureCode, "none before acceptance").to.equal(null);
      expect((await server.client.ok(READ, { id: postTask.id }, other.key)).task, "an operator browsing the open task").to.include({ captureCode: null });

      const { acceptTask } = await server.client.ok(ACCEPT, { id: postTask.id }, holder.key);
      const code: string = acceptTask.captureCode;
      expect(code).to.match(CAPTURE_CODE_PATTERN);
      expect(acceptTask.proofRequirements, "the operator is told to show it").to.deep.equal([
        "Full facade photo",
        "Close-up of signage",
        `Show the capture code ${code} (written on paper or on a screen) legibly in one of the photos`,
      ]);
      const seenByAgent = (await server.client.ok(READ, { id: postTask.id }, agent.liveKey)).task;
      expect(seenByAgent, "the agent's requirements stay its own").to.deep.equal({ status: "ACCEPTED", captureCode: code, proofRequirements: ["Full facade photo", "Close-up of signage"] });
      expect((await server.client.fails(READ, { id: postTask.id }, other.key)).extensions?.code, "another operator no longer sees the task at all").to.equal("NOT_FOUND");
      const otherAgent = await registerAgent(server.client, "stranger");
      expect((await rest.get(`/tasks/${postTask.id}`, otherAgent.apiKey)).status).to.equal(404);

      const agentBody = await rest.get(`/tasks/${postTask.id}`, agent.liveKey);
      expect(agentBody.body).to.include({ capture_code: code });
      const release = await rest.post(`/tasks/${postTask.id}/release`, { reason: "cannot get there" }, holder.key);
      expect(release.body).to.include({ status: "POSTED", capture_code: null });
      const again = await rest.post(`/tasks/${postTask.id}/accept`, {}, other.key);
      expect(again.status).to.equal(200);
      expect(again.body.capture_code, "a new acceptance, a new code").to.match(CAPTURE_CODE_PATTERN).and.not.equal(code);
      expect(again.body.proof_requirements.at(-1)).to.include(again.body.capture_code);
      expect((await rest.get(`/tasks/${postTask.id}`, agent.liveKey)).body.capture_code).to.equal(again.body.capture_code);
    });

    async function liveProof(withCode: boolean): Promise<Record<string, any>> {
      const agent = await agentWithLiveDeposit(server, owned, withCode ? "with-code" : "without-code", USDC(100));
      const operator = await liveOperator(withCode ? "shows-code" : "forgets-code");
      const { postTask } = await server.client.ok(POST, { input: taskInput({ rewardUsd: 10, proofRequirements: ["2 photos of the facade"] }) }, agent.liveKey);
      const accepted = await rest.post(`/tasks/${postTask.id}/accept`, {}, operator.key);
      const code: string = accepted.body.capture_code;
      const takenAt = new Date();
      const photos = [
        await mockPhoto({ title: "Storefront", seed: `${postTask.id}:0`, ...POINT, takenAt }),
        await mockPhoto({ title: "Storefront", seed: `${postTask.id}:1`, ...POINT, takenAt, captureCode: withCode ? code : undefined }),
      ];
      const submitted = await rest.request("POST", `/tasks/${postTask.id}/proof`, { apiKey: operator.key, form: proofForm(photos, "Both sides of the shop", "image/jpeg") });
      expect(submitted.status).to.equal(202);
      const task = await waitForStatus(server.client, agent.liveKey, postTask.id, ["VERIFIED", "PAID", "MANUAL_REVIEW", "REJECTED"]);
      const request = fake.requests.find((r) => r.captureCode === code);
      expect(request, "the model was asked for this task's code").to.not.equal(undefined);
      return { task, code };
    }

    it("a live proof with the code held up in a photo is approved by the model and paid: capture_code PASS", async () => {
      const { task, code } = await liveProof(true);
      const check = task.verification.checks.find((c: any) => c.name === "capture_code");
      expect(check).to.include({ outcome: "PASS", photo: 1 });
      expect(check.detail).to.include(`capture code ${code} is visible and legible in photo 2`);
      expect(task.verification).to.include({ verdict: "APPROVE", score: 95 });
    });

    it("a live proof without the code is kept from auto-approval (the model's 95 held at 89): capture_code FAIL, MANUAL_REVIEW", async () => {
      const { task, code } = await liveProof(false);
      expect(task.status).to.equal("MANUAL_REVIEW");
      expect(task.verification).to.include({ verdict: "REVIEW", score: 89 });
      expect(task.verification.checks.find((c: any) => c.name === "capture_code")).to.include({ outcome: "FAIL" });
      expect(task.verification.reasons.join("\n")).to.include(`capture code ${code} is not visible or not legible in any photo`);
    });
  });
}
