import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { GET_TASK, POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { generatePhoto } from "../../server/photos/photo.samples";

const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
const photo = (seed: number) => ({ dataBase64: generatePhoto(seed).toString("base64"), contentType: "image/png" });

for (const db of testDatabases()) {
  describe(`authorization between accounts (${db.name})`, () => {
    let server: TestServer;
    let alice: { apiKey: string; id: string };
    let bob: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      alice = await registerAgent(server.client, "alice");
      bob = await registerAgent(server.client, "bob");
    });
    after(() => server.stop());

    it("an agent can neither read, list, cancel nor review another agent's task", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REVIEW" }) }, alice.apiKey);
      await waitForStatus(server.client, alice.apiKey, postTask.id, ["MANUAL_REVIEW"]);

      const read = await server.client.fails(GET_TASK, { id: postTask.id }, bob.apiKey);
      expect(read.extensions?.code).to.equal("NOT_FOUND");
      const { tasks } = await server.client.ok(`{ tasks { totalCount nodes { id } } }`, {}, bob.apiKey);
      expect(tasks.nodes.map((t: any) => t.id)).not.to.include(postTask.id);
      const cancel = await server.client.fails(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: postTask.id }, bob.apiKey);
      expect(cancel.extensions?.code).to.equal("NOT_FOUND");
      const review = await server.client.fails(`mutation($id: ID!) { reviewTask(id: $id, decision: APPROVE) { status } }`, { id: postTask.id }, bob.apiKey);
      expect(review.extensions?.code).to.equal("NOT_FOUND");

      const { task } = await server.client.ok(GET_TASK, { id: postTask.id }, alice.apiKey);
      expect(task.status, "nothing bob did changed alice's task").to.equal("MANUAL_REVIEW");
    });

    it("an operator never sees another operator's proof, nor a task it does not hold", async () => {
      const holder = await registerOperator(server.client, "holder");
      const other = await registerOperator(server.client, "other");
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", proofRequirements: ["1 photo"] }) }, alice.apiKey);
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, holder.testApiKey);
      await server.client.ok(SUBMIT, { id: postTask.id, input: { photos: [photo(1)], notes: "n" } }, holder.testApiKey);

      const seen = await server.client.fails(GET_TASK, { id: postTask.id }, other.testApiKey);
      expect(seen.extensions?.code).to.equal("NOT_FOUND");
      const own = await server.client.ok(`query($id: ID!) { task(id: $id) { proofs { attempt } } }`, { id: postTask.id }, holder.testApiKey);
      expect(own.task.proofs).to.have.length(1);
      const submit = await server.client.fails(SUBMIT, { id: postTask.id, input: { photos: [photo(2)] } }, other.testApiKey);
      expect(submit.extensions?.code).to.equal("NOT_FOUND");
    });

    it("agent keys cannot act as operators, nor operator keys as agents", async () => {
      const operator = await registerOperator(server.client);
      const asOperator = await server.client.fails(`query { availableTasks(near: {lat: 0, lng: 0}, radiusKm: 1) { distanceKm } }`, {}, alice.apiKey);
      expect(asOperator.extensions?.code).to.equal("FORBIDDEN");
      const asAgent = await server.client.fails(POST_TASK, { input: taskInput() }, operator.testApiKey);
      expect(asAgent.extensions?.code).to.equal("FORBIDDEN");
    });

    it("a live task is refused, and nothing posted, where no live chain is configured (KYC on live tasks: test/chain/live.test.ts)", async () => {
      const { app } = server;
      const { Mode } = await import("../../server/common/mode");
      const { Agent } = await import("../../server/agents/agent.entity");
      const { Accounts } = await import("../../server/ledger/ledger.service");
      const { LedgerKind } = await import("../../server/ledger/ledger-entry.entity");
      // A live key and live funds, as the wallet-linking flow would give them.
      const em = app.orm.em.fork();
      const liveKey = app.services.keys.issue(em, Mode.LIVE, { agent: em.getReference(Agent, alice.id) });
      app.services.ledger.post(em, Mode.LIVE, LedgerKind.DEPOSIT, Accounts.deposits, Accounts.agent(alice.id), 100_000_000n);
      await em.flush();

      const error = await server.client.fails(POST_TASK, { input: taskInput() }, liveKey);
      expect(error.extensions?.code).to.equal("FORBIDDEN");
      expect(error.message).to.match(/CHAIN_RPC_URL/);
      const { tasks } = await server.client.ok(`{ tasks { totalCount } }`, {}, liveKey);
      expect(tasks.totalCount).to.equal(0);
    });
  });
}
