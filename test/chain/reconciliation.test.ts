import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent, taskInput, waitForStatus, POST_TASK } from "../support/fixtures";
import { generatePhoto } from "../../server/photos/photo.samples";
import type { Chain } from "../../server/chain/chains";
import { devAccounts } from "../../server/chain/local-chain";
import { sendAndConfirm } from "../../server/chain/transactions";
import { ChainTx, ChainTxKind, ChainTxStatus } from "../../server/escrow/chain-tx.entity";
import { Escrow, EscrowDiscrepancy } from "../../server/escrow/escrow.entity";
import { compareBooksAtRest } from "../../server/escrow/books";
import { expectBooksMatchChain, freshAddress, operatorPaidTo, testChain, usdcBalance, waitForEscrow } from "./support/chain";

const BALANCE = `{ viewerAgent { balance { units } } }`;
const proof = { photos: [3, 4].map((seed) => ({ dataBase64: generatePhoto(seed).toString("base64"), contentType: "image/png" })) };

for (const db of testDatabases()) {
  describe(`reconciliation with the chain (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let agent: { apiKey: string; id: string };

    const escrowOf = (taskId: string) => server.app.orm.em.fork().findOneOrFail(Escrow, { task: taskId });
    const findings = (taskId: string) => server.app.orm.em.fork().find(EscrowDiscrepancy, { task: taskId });

    beforeEach(async () => {
      // Each test moves the chain in its own way (one travels in time): a chain, and a server, of its own.
      server = await startServer(db, { CHAIN_GRACE_DAYS: "1" });
      chain = testChain(server.app);
      agent = await registerAgent(server.client, "reconciled");
    });
    afterEach(async () => {
      await expectBooksMatchChain(server.app);
      await server.stop();
    });

    it("a release sent outside HumanOps (the Guardian's key used by hand) is recorded from the chain: the task is PAID once, the queued release is not sent", async () => {
      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operator.testApiKey);
      await server.app.escrow.sender.stop();
      await server.client.ok(`mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`, { id: postTask.id, input: proof }, operator.testApiKey);
      await waitForStatus(server.client, agent.apiKey, postTask.id, ["VERIFIED"]);

      const escrow = await escrowOf(postTask.id);
      const manual = await sendAndConfirm(chain.rpc, chain.id, chain.guardian, { to: chain.escrow.address, data: chain.escrow.release(escrow.chainTaskId, escrow.terms, payout) });
      const paid = await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      expect(paid.events.at(-1).reason).to.include(manual.transactionHash);
      expect((await findings(postTask.id)).map((f) => [f.kind, f.fixed])).to.deep.equal([["RECORDED_FROM_CHAIN", true]]);

      await server.app.escrow.sender.start();
      await server.app.escrow.idle();
      const release = await server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: `settle:${postTask.id}` });
      expect(release.status, "HumanOps's own release was not sent").to.equal(ChainTxStatus.SKIPPED);
      expect(release.txHash).to.equal(null);
      expect((await escrowOf(postTask.id)).releaseTxHash).to.equal(manual.transactionHash);
      expect(await usdcBalance(chain, payout)).to.equal(15_000_000n);
    });

    it("a refund still queued is money on its way back to the funding wallet: the sweep mints no test USDC for it", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      await server.app.escrow.idle();
      await server.app.escrow.sender.stop();
      // Cancelled: the agent's balance is refunded at once, the escrow on chain still holds the money until the refund is sent.
      await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: postTask.id }, agent.apiKey);
      const atRest = (await compareBooksAtRest(server.app.orm.em.fork(), chain))!;
      expect(atRest.activity.queuedRefunds, "the escrow's reward and fee, on their way back").to.equal(16_500_000n);
      expect(atRest.books.wallet.ledger - atRest.books.wallet.chain, "what the books already credited the agent").to.equal(16_500_000n);
      await server.app.escrow.reconciler.sweep(chain, async () => true);
      const queued = await server.app.orm.em.fork().find(ChainTx, { chainKey: chain.key, kind: ChainTxKind.MINT, intentKey: { $like: "%:backing:%" } });
      expect(queued.map((row) => row.amount), "nothing minted to back balances the chain will return").to.deep.equal([]);
      expect((await server.app.orm.em.fork().find(EscrowDiscrepancy, { chainKey: chain.key })).map((f) => f.kind)).to.deep.equal([]);

      await server.app.escrow.sender.start();
      await waitForEscrow(server.client, agent.apiKey, postTask.id, ["REFUNDED"]);
    });

    it("a reclaim by anyone after deadline + grace is recorded: the open task expires and its agent is refunded", async () => {
      const before = BigInt((await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const escrow = await escrowOf(postTask.id);
      await chain.rpc.request("evm_increaseTime", [Number(escrow.deadline) - Math.floor(Date.now() / 1000) + escrow.gracePeriod + 60]);
      await chain.rpc.request("evm_mine", []);
      const stranger = devAccounts(4)[3];
      const reclaim = await sendAndConfirm(chain.rpc, chain.id, stranger, { to: chain.escrow.address, data: chain.escrow.reclaim(escrow.chainTaskId, escrow.terms) });

      const expired = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(expired.events.at(-1).reason).to.include("reclaimed on chain");
      const settled = await waitForEscrow(server.client, agent.apiKey, postTask.id, ["REFUNDED"]);
      expect(settled.escrow.refundTxHash).to.equal(reclaim.transactionHash);
      expect(BigInt((await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units)).to.equal(before);
      expect((await findings(postTask.id)).map((f) => f.kind).sort()).to.deep.equal(["RECORDED_FROM_CHAIN", "RETURNED_ON_CHAIN"]);
    });
  });
}
