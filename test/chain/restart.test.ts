import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { generatePhoto } from "../../server/photos/photo.samples";
import { EscrowDiscrepancy } from "../../server/escrow/escrow.entity";
import { Task } from "../../server/tasks/task.entity";
import { eventually } from "../live/support/live";
import { expectBooksMatchChain, freshAddress, operatorPaidTo, sharedDatabase, testChain, usdcBalance, type SharedDatabase } from "./support/chain";

const BALANCE = `{ viewerAgent { balance { units } } }`;
const ESCROW = `query($id: ID!) { task(id: $id) { escrow { contract status } } }`;
const proof = { photos: [5, 6].map((seed) => ({ dataBase64: generatePhoto(seed).toString("base64"), contentType: "image/png" })) };

for (const db of testDatabases()) {
  describe(`a database that outlives its in-process chain (${db.name})`, () => {
    let database: SharedDatabase;
    let server: TestServer | undefined;

    before(async () => {
      database = await sharedDatabase(db);
    });
    after(async () => {
      await server?.stop();
      await database.drop();
    });

    it("on a fresh chain, open tasks are funded again, the funding wallet is minted what the books hold, and the books equal the new chain", async () => {
      const env = { CHAIN_RECONCILE_MS: "100" };
      server = await startServer({ database: database.config }, env);
      const agent = await registerAgent(server.client, "survivor");
      const { postTask: open } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const { postTask: cancelled } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: cancelled.id }, agent.apiKey);
      const { postTask: paid } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, paid.id, ["PAID"]);
      await expectBooksMatchChain(server.app);
      const balance = (await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units;
      const oldContract = testChain(server.app).escrow.address;
      const fundedAt = async () => (await server!.app.orm.em.fork().findOneOrFail(Task, open.id)).fundedAt;
      const firstFunded = await fundedAt();
      expect(firstFunded, "the open task is offered to operators").to.be.instanceOf(Date);
      await server.stop();

      server = await startServer({ database: database.config }, env);
      const chain = testChain(server.app);
      expect(chain.escrow.address, "a new chain with new contracts").not.to.equal(oldContract);
      // Until the reconciler moves it, the open task's escrow still shows as FUNDED on the old contract.
      await eventually(async () => {
        const { task } = await server!.client.ok(ESCROW, { id: open.id }, agent.apiKey);
        return task.escrow.contract === chain.escrow.address && task.escrow.status === "FUNDED";
      }, "the open task's escrow funded again on the new chain's contract");
      await expectBooksMatchChain(server.app);
      expect((await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units).to.equal(balance);
      // Offered again from its funding on the new chain, not from the one on the chain that is gone.
      expect((await fundedAt())!.getTime()).to.be.greaterThan(firstFunded!.getTime());
      const kinds = (await server.app.orm.em.fork().find(EscrowDiscrepancy, { chainKey: chain.key })).map((d) => d.kind);
      expect(kinds).to.include.members(["ESCROW_REHOMED", "WALLET_BACKED"]);

      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout);
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: open.id }, operator.testApiKey);
      await server.client.ok(`mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`, { id: open.id, input: proof }, operator.testApiKey);
      await waitForStatus(server.client, agent.apiKey, open.id, ["PAID"]);
      await expectBooksMatchChain(server.app);
      expect(await usdcBalance(chain, payout)).to.equal(15_000_000n);
    });

    it("a test task posted as soon as a restarted server is ready can be accepted at once: the new chain is set up before /readyz says 200", async () => {
      await server?.stop();
      // The periodic sweep is far away: only what the server does before it is ready counts.
      const env = { CHAIN_RECONCILE_MS: "600000" };
      server = await startServer({ database: database.config }, env);
      const agent = await registerAgent(server.client, "returning");
      const { postTask: open } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.stop();

      server = await startServer({ database: database.config }, env);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).to.equal(200);
      const { postTask: fresh } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      expect((await server.client.ok(ESCROW, { id: fresh.id }, agent.apiKey)).task.escrow.status, "funded while posting").to.equal("FUNDED");
      const operator = await operatorPaidTo(server.client, freshAddress());
      for (const id of [fresh.id, open.id]) {
        const { acceptTask } = await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status escrow { status contract } } }`, { id }, operator.testApiKey);
        expect(acceptTask).to.deep.equal({ status: "ACCEPTED", escrow: { status: "FUNDED", contract: testChain(server.app).escrow.address } });
      }
      await expectBooksMatchChain(server.app);
    });
  });
}
