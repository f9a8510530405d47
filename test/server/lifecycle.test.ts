import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { GET_TASK, POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { until } from "../support/until";
import { createLogger } from "../../server/common/logger";

/** The status changes of a task's event log (its ESCROW_FUNDED entry is asserted where its place is certain). */
const transitions = (task: Record<string, any>) => task.events.filter((e: any) => e.kind === "STATUS_CHANGED").map((e: any) => `${e.fromStatus ?? "∅"}→${e.toStatus}`);

for (const db of testDatabases()) {
  describe(`task lifecycle in test mode (${db.name})`, () => {
    let server: TestServer;
    let agent: { apiKey: string; id: string };
    const logged: Array<Record<string, any>> = [];

    before(async () => {
      server = await startServer(db, {}, createLogger("info", { write: (line: string) => void logged.push(JSON.parse(line)) }));
      agent = await registerAgent(server.client);
    });
    after(() => server.stop());

    it("a test task posted through GraphQL reaches PAID with no other call, every transition logged", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      expect(postTask.status).to.equal("POSTED");
      expect(postTask.reward).to.deep.equal({ units: "15000000", usd: "15.00" });
      expect(postTask.fee).to.deep.equal({ units: "1500000", usd: "1.50" });

      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      expect(transitions(task)).to.deep.equal(["∅→POSTED", "POSTED→ACCEPTED", "ACCEPTED→SUBMITTED", "SUBMITTED→VERIFIED", "VERIFIED→PAID"]);
      expect(task.events.map((e: any) => `${e.kind}:${e.actorType}`), "the escrow is funded on chain before anyone accepts").to.deep.equal([
        "STATUS_CHANGED:AGENT",
        "ESCROW_FUNDED:SYSTEM",
        "STATUS_CHANGED:OPERATOR",
        "STATUS_CHANGED:OPERATOR",
        "STATUS_CHANGED:GUARDIAN",
        "STATUS_CHANGED:SYSTEM",
      ]);
      expect(task.events[1]).to.include({ fromStatus: "POSTED", toStatus: "POSTED" });
      expect(task.events[1].reason).to.match(/locked in escrow on chain in transaction 0x[0-9a-f]{64}$/);
      expect(task.verification.score).to.equal(100);
      expect(task.proofs).to.have.length(1);
      expect(task.proofs[0].photos).to.have.length(2);
      // The mock operator's photos are real JPEGs taken at the task's point after accepting: every evidence check runs and passes.
      const byName = (name: string) => task.verification.checks.filter((c: any) => c.name === name);
      for (const name of ["location", "time", "reuse", "recapture"]) {
        expect(byName(name).map((c: any) => [c.photo, c.outcome]), name).to.deep.equal([[0, "PASS"], [1, "PASS"]]);
      }
      expect(byName("location")[0].detail).to.match(/^taken \d+ m from the task's location \(within 300 m\)$/);
      expect(byName("photos")[0]).to.include({ outcome: "PASS", photo: null });
      expect(byName("vision")[0]).to.include({ outcome: "SKIPPED", detail: "no vision model is configured" });
      const ids = task.events.map((e: any) => BigInt(e.id));
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).to.deep.equal(ids);
    });

    it("REVIEW: low-resolution proof waits for the agent; approving pays", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REVIEW" }) }, agent.apiKey);
      const review = await waitForStatus(server.client, agent.apiKey, postTask.id, ["MANUAL_REVIEW"]);
      expect(review.verification.verdict).to.equal("REVIEW");
      expect(review.verification.score).to.be.within(50, 89);
      await server.client.ok(`mutation($id: ID!) { reviewTask(id: $id, decision: APPROVE, reason: "looks right") { status } }`, { id: postTask.id }, agent.apiKey);
      const paid = await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      expect(transitions(paid)).to.include.members(["SUBMITTED→MANUAL_REVIEW", "MANUAL_REVIEW→VERIFIED", "VERIFIED→PAID"]);
      expect(paid.events.find((e: any) => e.toStatus === "VERIFIED").actorType).to.equal("AGENT");
    });

    it("REVIEW rejected by the agent: the mock operator resubmits until attempts run out, then the task expires and is refunded", async () => {
      const before = await balance(server, agent.apiKey);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REVIEW", maxAttempts: 3 }) }, agent.apiKey);
      for (const attempt of [1, 2, 3]) {
        await until(async () => {
          const { task } = await server.client.ok(GET_TASK, { id: postTask.id }, agent.apiKey);
          return task.status === "MANUAL_REVIEW" && task.attempts === attempt ? task : undefined;
        }, `attempt ${attempt} in MANUAL_REVIEW`);
        const { reviewTask } = await server.client.ok(`mutation($id: ID!) { reviewTask(id: $id, decision: REJECT) { status attempts } }`, { id: postTask.id }, agent.apiKey);
        expect(reviewTask).to.deep.equal({ status: attempt < 3 ? "REJECTED" : "EXPIRED", attempts: attempt });
      }
      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(task.proofs.map((p: any) => p.attempt), "a new proof for every attempt").to.deep.equal([1, 2, 3]);
      expect(transitions(task).slice(2)).to.deep.equal([
        "ACCEPTED→SUBMITTED",
        "SUBMITTED→MANUAL_REVIEW",
        "MANUAL_REVIEW→REJECTED",
        "REJECTED→SUBMITTED",
        "SUBMITTED→MANUAL_REVIEW",
        "MANUAL_REVIEW→REJECTED",
        "REJECTED→SUBMITTED",
        "SUBMITTED→MANUAL_REVIEW",
        "MANUAL_REVIEW→REJECTED",
        "REJECTED→EXPIRED",
      ]);
      expect(task.events.filter((e: any) => e.toStatus === "REJECTED").map((e: any) => e.actorType)).to.deep.equal(["AGENT", "AGENT", "AGENT"]);
      expect(await balance(server, agent.apiKey)).to.equal(before);
    });

    it("logs every status transition at info with the task id, and no reason or actor id", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id, reason: "private note from the agent") { status } }`, { id: postTask.id }, agent.apiKey);
      const lines = logged.filter((line) => line.msg === "task status changed" && line.taskId === postTask.id);
      expect(lines.map((line) => `${line.from}→${line.to}`)).to.deep.equal(["null→POSTED", "POSTED→CANCELLED"]);
      expect(lines.every((line) => line.level === "info" && line.actor && typeof line.eventId === "string")).to.equal(true);
      expect(JSON.stringify(lines)).not.to.include("private note").and.not.to.include(agent.id);
    });

    it("REJECT: corrupt proof is rejected on every attempt, then the task expires and is refunded", async () => {
      const before = await balance(server, agent.apiKey);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REJECT", maxAttempts: 2 }) }, agent.apiKey);
      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(transitions(task)).to.deep.equal([
        "∅→POSTED",
        "POSTED→ACCEPTED",
        "ACCEPTED→SUBMITTED",
        "SUBMITTED→REJECTED",
        "REJECTED→SUBMITTED",
        "SUBMITTED→REJECTED",
        "REJECTED→EXPIRED",
      ]);
      expect(task.attempts).to.equal(2);
      expect(task.verification.verdict).to.equal("REJECT");
      expect(await balance(server, agent.apiKey)).to.equal(before);
    });

    it("FRAUD: a recompressed copy of an earlier task's photo fails the reuse check and is rejected on every attempt", async () => {
      const earlier = await waitForStatus(server.client, agent.apiKey, (await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)).postTask.id, ["PAID"]);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "FRAUD", maxAttempts: 2 }) }, agent.apiKey);
      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(transitions(task).slice(2, 6)).to.deep.equal(["ACCEPTED→SUBMITTED", "SUBMITTED→REJECTED", "REJECTED→SUBMITTED", "SUBMITTED→REJECTED"]);
      expect(task.proofs[0].photos[0].sha256, "not the same bytes: recompressed").not.to.be.oneOf(earlier.proofs[0].photos.map((p: any) => p.sha256));
      expect(task.verification.verdict).to.equal("REJECT");
      const reuse = task.verification.checks.find((c: any) => c.name === "reuse");
      expect(reuse).to.include({ outcome: "FAIL", photo: 0 });
      expect(reuse.detail).to.match(/as a photo of an earlier proof, for task [0-9a-f-]{36}$/);
      expect(task.verification.reasons.join("; ")).to.include("failed: reuse (photo 1)");
    });

    it("FRAUD is refused, naming the field, to an agent without an earlier test task with proof", async () => {
      const newcomer = await registerAgent(server.client, "newcomer");
      const { errors } = await server.client.request(POST_TASK, { input: taskInput({ testScenario: "FRAUD" }) }, newcomer.apiKey);
      expect(errors![0].extensions!.code).to.equal("BAD_USER_INPUT");
      expect(errors![0].message).to.match(/testScenario.*FRAUD reuses a photo of one of your earlier test tasks/);
    });

    it("EXPIRE: nobody accepts, the task expires and the agent gets everything back", async () => {
      const before = await balance(server, agent.apiKey);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "EXPIRE" }) }, agent.apiKey);
      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(transitions(task)).to.deep.equal(["∅→POSTED", "POSTED→EXPIRED"]);
      expect(await balance(server, agent.apiKey)).to.equal(before);
    });

    it("MANUAL: a test operator finds the task nearby, accepts it and submits proof over GraphQL", async () => {
      const operator = await registerOperator(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", proofRequirements: ["1 photo of the entrance"] }) }, agent.apiKey);
      const { availableTasks } = await server.client.ok(
        `query { availableTasks(near: { lat: 30.27, lng: -97.74 }, radiusKm: 5) { distanceKm task { id status } } }`,
        {},
        operator.testApiKey,
      );
      const found = availableTasks.find((a: any) => a.task.id === postTask.id);
      expect(found, "the task is offered nearby").to.exist;
      expect(found.distanceKm).to.be.within(0, 1);

      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operator.testApiKey);
      const { generatePhoto } = await import("../../server/photos/photo.samples");
      const photo = generatePhoto(7).toString("base64");
      const { submitProof } = await server.client.ok(
        `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status attempts } }`,
        { id: postTask.id, input: { photos: [{ dataBase64: photo, contentType: "image/png" }], notes: "Front door, north side" } },
        operator.testApiKey,
      );
      expect(submitProof).to.deep.equal({ status: "SUBMITTED", attempts: 1 });
      const paid = await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      expect(paid.events.find((e: any) => e.toStatus === "ACCEPTED").actorId).to.equal(operator.id);
      const { viewerOperator } = await server.client.ok(`{ viewerOperator { earnings { usd } } }`, {}, operator.testApiKey);
      expect(viewerOperator.earnings.usd).to.equal("15.00");
    });

    it("the agent's balance pays reward + fee into escrow when posting and nothing more", async () => {
      const before = await balance(server, agent.apiKey);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", rewardUsd: "2.5" }) }, agent.apiKey);
      expect(await balance(server, agent.apiKey)).to.equal(before - 2_750_000n);
      await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: postTask.id }, agent.apiKey);
      expect(await balance(server, agent.apiKey)).to.equal(before);
      const { task } = await server.client.ok(GET_TASK, { id: postTask.id }, agent.apiKey);
      expect(transitions(task)).to.deep.equal(["∅→POSTED", "POSTED→CANCELLED"]);
    });
  });
}

async function balance(server: TestServer, apiKey: string): Promise<bigint> {
  const { viewerAgent } = await server.client.ok(`{ viewerAgent { balance { units } } }`, {}, apiKey);
  return BigInt(viewerAgent.balance.units);
}
