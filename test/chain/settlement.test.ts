import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { GET_TASK, POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { freshPhoto } from "../support/photos";
import { TestClock } from "../support/clock";
import { EscrowState } from "../../server/chain/contracts";
import type { Chain } from "../../server/chain/chains";
import { Task } from "../../server/tasks/task.entity";
import { MOCK_OPERATOR_PAYOUT } from "../../server/testmode/mock-operator";
import { escrowLogs, expectBooksMatchChain, freshAddress, operatorPaidTo, testChain, usdcBalance, waitForEscrow } from "./support/chain";

const ESCROW_FIELDS = `escrow { status chainId network contract chainTaskId funder amount { units } fundTxHash releaseTxHash refundTxHash payee basescanUrl reclaimableAt }`;
const TASK = `query($id: ID!) { task(id: $id) { id status reward { units } fee { units } total { units } events { kind fromStatus toStatus reason } ${ESCROW_FIELDS} } }`;
const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id status total { units } ${ESCROW_FIELDS} } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;
const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
/** Proof photos no other task used (the Guardian's reuse check rejects a photo of another task's proof). */
const proof = () => ({ photos: [freshPhoto(), freshPhoto()].map((photo) => ({ dataBase64: photo.toString("base64"), contentType: "image/png" })), notes: "Facade and signage" });

/** The server's clock: deadlines are judged by it, and a test moves it forward rather than wait for one. */
const clock = new TestClock();
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - clock.now())));

/** The status changes of a task's event log (its ESCROW_FUNDED entry is asserted where its place is certain). */
const transitions = (task: Record<string, any>) => task.events.filter((e: any) => e.kind === "STATUS_CHANGED").map((e: any) => `${e.fromStatus ?? "∅"}→${e.toStatus}`);

for (const db of testDatabases()) {
  describe(`settlement on the local chain (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let agent: { apiKey: string; id: string };

    before(async () => {
      // Posting waits this long for its funding to be mined (one test stops the sender on purpose).
      server = await startServer(db, { CHAIN_FUNDING_WAIT_MS: "1500" }, undefined, { clock });
      chain = testChain(server.app);
      agent = await registerAgent(server.client, "payer");
      await server.app.escrow.idle();
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(() => server.stop());

    it("a test task goes POSTED → … → PAID with real contract calls: the operator's address gains the reward, the treasury the fee, the escrow returns to its previous figure", async () => {
      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout);
      const escrowBefore = await usdcBalance(chain, chain.escrow.address);
      const treasuryBefore = await usdcBalance(chain, chain.treasury);
      const walletBefore = await usdcBalance(chain, chain.funder.address);

      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL", rewardUsd: "12.5" }) }, agent.apiKey);
      expect(postTask.escrow).to.include({ status: "FUNDED", chainId: 31337, network: "local", contract: chain.escrow.address, funder: chain.funder.address, basescanUrl: null });
      expect(postTask.escrow.amount.units).to.equal("13750000");
      expect(postTask.escrow.fundTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect((await chain.escrow.escrowOf(chain.rpc, postTask.escrow.chainTaskId)).state).to.equal(EscrowState.Funded);
      expect(await usdcBalance(chain, chain.escrow.address)).to.equal(escrowBefore + 13_750_000n);
      expect(await usdcBalance(chain, chain.funder.address)).to.equal(walletBefore - 13_750_000n);

      await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
      await server.client.ok(SUBMIT, { id: postTask.id, input: proof() }, operator.testApiKey);
      await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      const { task } = await server.client.ok(TASK, { id: postTask.id }, agent.apiKey);

      expect(task.escrow).to.include({ status: "RELEASED", payee: payout, refundTxHash: null });
      expect(task.escrow.releaseTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(task.events.at(-1).reason).to.include(task.escrow.releaseTxHash);
      expect((await chain.escrow.escrowOf(chain.rpc, task.escrow.chainTaskId)).state).to.equal(EscrowState.Released);
      expect(await usdcBalance(chain, payout)).to.equal(12_500_000n);
      expect(await usdcBalance(chain, chain.treasury)).to.equal(treasuryBefore + 1_250_000n);
      expect(await usdcBalance(chain, chain.escrow.address)).to.equal(escrowBefore);
      expect(await usdcBalance(chain, chain.funder.address)).to.equal(walletBefore - 13_750_000n);
    });

    it("the mock operator's test tasks settle on chain too, each released once", async () => {
      const before = await usdcBalance(chain, MOCK_OPERATOR_PAYOUT);
      const ids = await Promise.all(
        [1, 2, 3].map(async () => (await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)).postTask.id as string),
      );
      for (const id of ids) await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      await server.app.escrow.idle();
      expect(await usdcBalance(chain, MOCK_OPERATOR_PAYOUT)).to.equal(before + 3n * 15_000_000n);
      const chainIds = await Promise.all(ids.map(async (id) => (await server.client.ok(TASK, { id }, agent.apiKey)).task.escrow.chainTaskId));
      const released = (await escrowLogs(chain, "TaskReleased")).map((log) => chain.escrow.parse(log)!.taskId);
      for (const chainTaskId of chainIds) expect(released.filter((id) => id === chainTaskId)).to.have.length(1);
    });

    it("a cancelled task's funder gets everything back on chain, and the agent its balance", async () => {
      const walletBefore = await usdcBalance(chain, chain.funder.address);
      const escrowBefore = await usdcBalance(chain, chain.escrow.address);
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      expect(postTask.escrow.status).to.equal("FUNDED");
      const { cancelTask } = await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
      expect(cancelTask.status).to.equal("CANCELLED");

      const task = await waitForEscrow(server.client, agent.apiKey, postTask.id, ["REFUNDED"]);
      expect(task.escrow.refundTxHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(task.escrow.releaseTxHash).to.equal(null);
      expect((await chain.escrow.escrowOf(chain.rpc, task.escrow.chainTaskId)).state).to.equal(EscrowState.Refunded);
      expect(await usdcBalance(chain, chain.funder.address)).to.equal(walletBefore);
      expect(await usdcBalance(chain, chain.escrow.address)).to.equal(escrowBefore);
    });

    it("an expired task is refunded on chain; one that ends before its funding is sent moves nothing", async () => {
      const walletBefore = await usdcBalance(chain, chain.funder.address);
      const { postTask: lapsing } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      // Time passes: the deadline comes (the expiry job was scheduled for the original one; the sweep of due tasks is the job itself).
      await server.app.orm.em.fork().nativeUpdate(Task, { id: lapsing.id }, { deadline: new Date(Date.now() - 1_000) });
      await server.app.orm.em.fork().transactional((tx) => server.app.services.tasks.expire(tx, lapsing.id));
      const expired = await waitForEscrow(server.client, agent.apiKey, lapsing.id, ["REFUNDED"]);
      expect(transitions(expired)).to.deep.equal(["∅→POSTED", "POSTED→EXPIRED"]);

      // EXPIRE: the task expires the moment it is posted, often before its funding transaction is signed.
      const { postTask: stillborn } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "EXPIRE" }) }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, stillborn.id, ["EXPIRED"]);
      const ended = await waitForEscrow(server.client, agent.apiKey, stillborn.id, ["UNFUNDED", "REFUNDED"]);
      expect(ended.escrow.releaseTxHash).to.equal(null);
      await server.app.escrow.idle();
      expect(await usdcBalance(chain, chain.funder.address)).to.equal(walletBefore);
    });

    it("proof submitted at the deadline's edge and the expiry job at the same moment end each task in exactly one outcome, and the money follows it", async function () {
      this.timeout(60_000);
      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout, "racer");
      const outcomes: string[] = [];
      for (const offsetMs of [-1000, -40, -15, -5, 0, 10]) {
        const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
        await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
        const input = proof();
        const deadline = clock.now() + 1_200;
        await server.app.orm.em.fork().nativeUpdate(Task, { id: postTask.id }, { deadline: new Date(deadline) });
        // Time passes (the clock moves on) to just before the first of the two; from there it runs at its own pace.
        clock.advanceTo(Math.min(deadline, deadline + offsetMs) - 20);
        // The expiry job runs at the deadline, as scheduled; the proof arrives `offsetMs` from it.
        const expiry = sleepUntil(deadline).then(() =>
          server.app.orm.em
            .fork()
            .transactional((tx) => server.app.services.tasks.expire(tx, postTask.id))
            .catch((err: Error) => expect(err.name, "the expiry that lost the race failed on the task's version").to.equal("OptimisticLockError")),
        );
        await sleepUntil(deadline + offsetMs);
        const submitted = await server.client.request(SUBMIT, { id: postTask.id, input }, operator.testApiKey);
        await expiry;
        const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID", "EXPIRED"]);
        const settled = await waitForEscrow(server.client, agent.apiKey, postTask.id, ["RELEASED", "REFUNDED"]);
        const after = transitions(task).slice(2);
        if (task.status === "PAID") {
          expect(submitted.errors, "the proof that won was accepted").to.be.undefined;
          expect(after).to.deep.equal(["ACCEPTED→SUBMITTED", "SUBMITTED→VERIFIED", "VERIFIED→PAID"]);
          expect(settled.escrow.status).to.equal("RELEASED");
        } else {
          expect(submitted.errors?.[0].extensions?.code, "the proof that lost was refused").to.be.oneOf(["DEADLINE_PASSED", "CONFLICT"]);
          expect(after).to.deep.equal(["ACCEPTED→EXPIRED"]);
          expect(settled.escrow.status).to.equal("REFUNDED");
        }
        outcomes.push(task.status);
      }
      await server.app.escrow.idle();
      expect(outcomes).to.include("PAID");
      expect(await usdcBalance(chain, payout)).to.equal(BigInt(outcomes.filter((s) => s === "PAID").length) * 15_000_000n);
    });

    it("shows the agent its postings (ledgerTransactions, paged) and the operator its earnings", async () => {
      const payer = await registerAgent(server.client, "bookkeeper");
      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout, "earner");
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL", rewardUsd: 20 }) }, payer.apiKey);
      await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
      await server.client.ok(SUBMIT, { id: postTask.id, input: proof() }, operator.testApiKey);
      await waitForStatus(server.client, payer.apiKey, postTask.id, ["PAID"]);

      const PAGE = `query($after: String) { viewerAgent { balance { units } ledgerTransactions(first: 1, after: $after) { nodes { id kind direction amount { units } taskId } pageInfo { hasNextPage endCursor } } } }`;
      const first = (await server.client.ok(PAGE, {}, payer.apiKey)).viewerAgent;
      expect(first.balance.units).to.equal("9978000000");
      expect(first.ledgerTransactions.nodes).to.deep.equal([{ id: first.ledgerTransactions.nodes[0].id, kind: "ESCROW_FUND", direction: "DEBIT", amount: { units: "22000000" }, taskId: postTask.id }]);
      expect(first.ledgerTransactions.pageInfo.hasNextPage).to.equal(true);
      const second = (await server.client.ok(PAGE, { after: first.ledgerTransactions.pageInfo.endCursor }, payer.apiKey)).viewerAgent;
      expect(second.ledgerTransactions.nodes.map((n: any) => [n.kind, n.direction, n.amount.units])).to.deep.equal([["DEPOSIT", "CREDIT", "10000000000"]]);
      expect(second.ledgerTransactions.pageInfo.hasNextPage).to.equal(false);

      const { viewerOperator } = await server.client.ok(`{ viewerOperator { earnings { units } } }`, {}, operator.testApiKey);
      expect(viewerOperator.earnings.units).to.equal("20000000");
      expect(await usdcBalance(chain, payout)).to.equal(20_000_000n);
      const unpaged = await server.client.fails(`{ viewerAgent { ledgerTransactions(first: 0) { nodes { id } } } }`, {}, payer.apiKey);
      expect(unpaged.extensions).to.include({ code: "BAD_USER_INPUT", field: "first" });
    });

    it("an operator cannot take a task whose escrow is not funded on chain yet", async () => {
      const operator = await operatorPaidTo(server.client, freshAddress(), "early");
      await server.app.escrow.sender.stop();
      let postTask: Record<string, any>;
      try {
        postTask = (await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask;
        expect(postTask.escrow.status).to.equal("FUNDING");
        const refused = await server.client.fails(ACCEPT, { id: postTask.id }, operator.testApiKey);
        expect(refused.extensions?.code).to.equal("CONFLICT");
        expect(refused.message).to.match(/not funded on chain yet/);
        const { availableTasks } = await server.client.ok(`{ availableTasks(near: { lat: 30.27, lng: -97.74 }, radiusKm: 5, first: 100) { task { id } } }`, {}, operator.testApiKey);
        expect(availableTasks.map((a: any) => a.task.id)).not.to.include(postTask.id);
      } finally {
        await server.app.escrow.sender.start();
      }
      await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
    });

    it("a task's escrow is visible to the operator who holds it, with the same chain facts", async () => {
      const operator = await operatorPaidTo(server.client, freshAddress(), "viewer");
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
      const { task } = await server.client.ok(GET_TASK.replace("verification {", `${ESCROW_FIELDS} verification {`), { id: postTask.id }, operator.testApiKey);
      expect(task.escrow).to.deep.include({ status: "FUNDED", chainTaskId: postTask.escrow.chainTaskId, fundTxHash: postTask.escrow.fundTxHash });
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
    });
  });
}
