import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { eventually } from "../support/until";
import { Job, JobStatus } from "../../server/jobs/job.entity";
import { TestModeJobs } from "../../server/tasks/task.service";
import { generatePhoto } from "../../server/photos/photo.samples";
import { freshPhoto } from "../support/photos";
import { EscrowState } from "../../server/chain/contracts";
import type { Chain } from "../../server/chain/chains";
import { Mode } from "../../server/common/mode";
import { KycStatus, Operator } from "../../server/operators/operator.entity";
import { agentWithLiveDeposit, expectBooksMatchChain, freshAddress, operatorPaidTo, ownedChain, usdcBalance, USDC, waitForEscrow, type OwnedChain } from "./support/chain";

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id status escrow { status } } }`;
const STATUS = `query($id: ID!) { task(id: $id) { status attempts escrow { status chainTaskId } } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;
const RELEASE = `mutation($id: ID!) { releaseTask(id: $id, reason: "cannot get there today") { status operator { id } } }`;
const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
const REVIEW = `mutation($id: ID!, $decision: ReviewDecision!) { reviewTask(id: $id, decision: $decision) { status } }`;
const BALANCE = `{ viewerAgent { balance { units } } }`;
const MY_TASKS = `{ myTasks { totalCount nodes { id } } viewerOperator { tasksReleased } }`;

/** Two photos no other task used (the Guardian's reuse check rejects a photo of another task's proof). */
const photos = (width?: number, height?: number) => [freshPhoto(width, height), freshPhoto(width, height)].map((photo) => ({ dataBase64: photo.toString("base64"), contentType: "image/png" }));
/** Good proof, low-resolution proof (the Guardian sends it to manual review), and a PNG header over noise (it rejects it); new photos on every use. */
const PROOF = {
  get good() {
    return { photos: photos() };
  },
  get lowResolution() {
    return { photos: photos(160, 120) };
  },
  corrupt: { photos: [{ dataBase64: Buffer.concat([generatePhoto(23).subarray(0, 16), Buffer.from("not an image")]).toString("base64"), contentType: "image/png" }] },
};

/**
 * Every state of a task that holds money, for test and live tasks, with the
 * agent's way out taken for real: the money goes back on chain and the books
 * equal the chain afterwards. No state waits for its deadline alone.
 */
for (const db of testDatabases()) {
  describe(`every state's way out, settled on chain (${db.name})`, () => {
    let owned: OwnedChain;
    let server: TestServer;

    before(async () => {
      owned = await ownedChain();
      server = await startServer(db, { ...owned.env("CHAIN_"), CHAIN_POLL_MS: "20", NEW_ACCOUNT_SPEND_CAP_DAY_USD: "1000" });
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(async () => {
      await server.stop();
      await owned.stop();
    });

    for (const mode of [Mode.TEST, Mode.LIVE]) {
      describe(`${mode.toLowerCase()} tasks`, () => {
        let agentKey: string;
        let chain: Chain;

        /** An operator who may accept this mode's tasks (live: KYC approved). */
        async function operator(): Promise<{ key: string; id: string }> {
          const registered = await operatorPaidTo(server.client, freshAddress());
          if (mode === Mode.TEST) return { key: registered.testApiKey, id: registered.id };
          await server.app.orm.em.fork().nativeUpdate(Operator, { id: registered.id }, { kycStatus: KycStatus.APPROVED });
          return { key: registered.liveApiKey, id: registered.id };
        }

        async function balance(): Promise<bigint> {
          return BigInt((await server.client.ok(BALANCE, {}, agentKey)).viewerAgent.balance.units);
        }

        /** A funded task (test tasks: no mock operator) and the agent's balance before it. */
        async function post(): Promise<{ id: string; before: bigint }> {
          const before = await balance();
          const { postTask } = await server.client.ok(POST, { input: taskInput(mode === Mode.TEST ? { testScenario: "MANUAL", maxAttempts: 3 } : { maxAttempts: 3 }) }, agentKey);
          expect(postTask.escrow.status).to.equal("FUNDED");
          return { id: postTask.id, before };
        }

        async function status(id: string, wanted: string): Promise<void> {
          await waitForStatus(server.client, agentKey, id, [wanted]);
        }

        /** The agent cancels: CANCELLED, the escrow refunded on chain, the agent's balance whole again. */
        async function cancelAndExpectRefund(task: { id: string; before: bigint }): Promise<void> {
          expect((await server.client.ok(CANCEL, { id: task.id }, agentKey)).cancelTask.status).to.equal("CANCELLED");
          const refunded = await waitForEscrow(server.client, agentKey, task.id, ["REFUNDED"]);
          expect(refunded.escrow.refundTxHash).to.match(/^0x[0-9a-f]{64}$/);
          expect((await chain.escrow.escrowOf(chain.rpc, refunded.escrow.chainTaskId)).state).to.equal(EscrowState.Refunded);
          expect(await balance()).to.equal(task.before);
        }

        before(async () => {
          chain = server.app.chains.require(mode);
          agentKey = mode === Mode.TEST ? (await registerAgent(server.client, "ways-out")).apiKey : (await agentWithLiveDeposit(server, owned, "ways-out", USDC(500))).liveKey;
        });

        it("POSTED: the agent cancels and everything is refunded on chain", async () => {
          await cancelAndExpectRefund(await post());
        });

        it("ACCEPTED: the agent cancels and everything is refunded on chain", async () => {
          const task = await post();
          await server.client.ok(ACCEPT, { id: task.id }, (await operator()).key);
          await cancelAndExpectRefund(task);
        });

        it("ACCEPTED: the operator releases it; it is POSTED again and still funded on chain, another operator takes it and is paid", async () => {
          const task = await post();
          const first = await operator();
          await server.client.ok(ACCEPT, { id: task.id }, first.key);
          expect((await server.client.ok(RELEASE, { id: task.id }, first.key)).releaseTask).to.deep.equal({ status: "POSTED", operator: null });
          const { task: reopened } = await server.client.ok(STATUS, { id: task.id }, agentKey);
          expect(reopened.escrow.status).to.equal("FUNDED");
          expect((await chain.escrow.escrowOf(chain.rpc, reopened.escrow.chainTaskId)).state).to.equal(EscrowState.Funded);
          const mine = await server.client.ok(MY_TASKS, {}, first.key);
          expect(mine.myTasks.totalCount, "a released task is no longer the operator's").to.equal(0);
          expect(mine.viewerOperator.tasksReleased).to.equal(1);

          const payout = freshAddress();
          const registered = await operatorPaidTo(server.client, payout);
          if (mode === Mode.LIVE) await server.app.orm.em.fork().nativeUpdate(Operator, { id: registered.id }, { kycStatus: KycStatus.APPROVED });
          const second = mode === Mode.TEST ? registered.testApiKey : registered.liveApiKey;
          await server.client.ok(ACCEPT, { id: task.id }, second);
          await server.client.ok(SUBMIT, { id: task.id, input: PROOF.good }, second);
          if (mode === Mode.LIVE) {
            // Without a vision model, live proof waits for its agent's review.
            await status(task.id, "MANUAL_REVIEW");
            await server.client.ok(REVIEW, { id: task.id, decision: "APPROVE" }, agentKey);
          }
          await status(task.id, "PAID");
          await server.app.escrow.idle();
          expect(await usdcBalance(chain, payout)).to.equal(15_000_000n);
        });

        it("SUBMITTED: cancelling is refused while the Guardian has the proof; its score moves the task on", async () => {
          const task = await post();
          const held = await operator();
          await server.client.ok(ACCEPT, { id: task.id }, held.key);
          await server.app.worker.stop();
          try {
            await server.client.ok(SUBMIT, { id: task.id, input: PROOF.corrupt }, held.key);
            const refused = await server.client.fails(CANCEL, { id: task.id }, agentKey);
            expect(refused.extensions?.code).to.equal("CONFLICT");
            expect(refused.message).to.match(/SUBMITTED task has proof waiting for a decision .* wait for the Guardian's score/);
          } finally {
            server.app.worker.start();
          }
          await status(task.id, "REJECTED");
          await cancelAndExpectRefund(task);
        });

        it("MANUAL_REVIEW: cancelling is refused until the agent decides; rejected, then cancelled, everything is refunded on chain", async () => {
          const task = await post();
          const held = await operator();
          await server.client.ok(ACCEPT, { id: task.id }, held.key);
          await server.client.ok(SUBMIT, { id: task.id, input: PROOF.lowResolution }, held.key);
          await status(task.id, "MANUAL_REVIEW");
          const refused = await server.client.fails(CANCEL, { id: task.id }, agentKey);
          expect(refused.extensions?.code).to.equal("CONFLICT");
          expect(refused.message).to.match(/decide it with reviewTask first/);
          expect((await server.client.ok(REVIEW, { id: task.id, decision: "REJECT" }, agentKey)).reviewTask.status).to.equal("REJECTED");
          await cancelAndExpectRefund(task);
        });

        it("REJECTED by the Guardian with attempts left: the agent cancels instead of waiting for the deadline, and everything is refunded on chain", async () => {
          const task = await post();
          const held = await operator();
          await server.client.ok(ACCEPT, { id: task.id }, held.key);
          await server.client.ok(SUBMIT, { id: task.id, input: PROOF.corrupt }, held.key);
          await status(task.id, "REJECTED");
          await cancelAndExpectRefund(task);
          const late = await server.client.fails(SUBMIT, { id: task.id, input: PROOF.good }, held.key);
          expect(late.extensions?.code, "no proof after the cancel").to.equal("CONFLICT");
        });
      });
    }

    it("the REVIEW scenario rejected by the agent, then cancelled before the mock operator resubmits: refunded on chain", async () => {
      const { apiKey } = await registerAgent(server.client, "review-cancel");
      const before = BigInt((await server.client.ok(BALANCE, {}, apiKey)).viewerAgent.balance.units);
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "REVIEW", maxAttempts: 3 }) }, apiKey);
      await waitForStatus(server.client, apiKey, postTask.id, ["MANUAL_REVIEW"]);
      // Hold the mock operator's next step so the cancel surely comes first.
      await server.app.worker.stop();
      try {
        expect((await server.client.ok(REVIEW, { id: postTask.id, decision: "REJECT" }, apiKey)).reviewTask.status).to.equal("REJECTED");
        expect((await server.client.ok(CANCEL, { id: postTask.id }, apiKey)).cancelTask.status).to.equal("CANCELLED");
      } finally {
        server.app.worker.start();
      }
      const refunded = await waitForEscrow(server.client, apiKey, postTask.id, ["REFUNDED"]);
      const chain = server.app.chains.require(Mode.TEST);
      expect((await chain.escrow.escrowOf(chain.rpc, refunded.escrow.chainTaskId)).state).to.equal(EscrowState.Refunded);
      expect(BigInt((await server.client.ok(BALANCE, {}, apiKey)).viewerAgent.balance.units)).to.equal(before);
      await eventually(async () => (await server.app.orm.em.fork().count(Job, { kind: TestModeJobs.submit, status: JobStatus.PENDING })) === 0, "the mock operator's queued resubmission to run");
      const { task } = await server.client.ok(STATUS, { id: postTask.id }, apiKey);
      expect(task, "the resubmission found the task cancelled").to.deep.include({ status: "CANCELLED", attempts: 1 });
    });
  });
}
