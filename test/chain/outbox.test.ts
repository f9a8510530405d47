import { expect } from "chai";
import { AbiCoder, keccak256, Transaction, Wallet, zeroPadValue } from "ethers";
import { testDatabases } from "../support/databases";
import { until } from "../support/until";
import { TestClock } from "../support/clock";
import { startServer, type TestServer } from "../support/server";
import { registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import type { Chain } from "../../server/chain/chains";
import { RpcError, toHex, type Rpc } from "../../server/chain/rpc";
import { receiptOf, signCall } from "../../server/chain/transactions";
import { ChainTx, ChainTxKind, ChainTxStatus } from "../../server/escrow/chain-tx.entity";
import type { OutboxEffects } from "../../server/escrow/outbox.effects";
import { EscrowDiscrepancy } from "../../server/escrow/escrow.entity";
import { TaskEscrowContract } from "../../server/chain/contracts";
import { freshPhoto } from "../support/photos";
import { escrowLogs, expectBooksMatchChain, freshAddress, operatorPaidTo, testChain, usdcBalance, waitForEscrow } from "./support/chain";

const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;
const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
/** Proof photos no other task used (the Guardian's reuse check rejects a photo of another task's proof). */
const proof = () => ({ photos: [freshPhoto(), freshPhoto()].map((photo) => ({ dataBase64: photo.toString("base64"), contentType: "image/png" })), notes: "Facade and signage" });
/** The TaskEscrow function a signed transaction calls. */
const calledFunction = (raw: string) => TaskEscrowContract.iface.parseTransaction({ data: Transaction.from(raw).data })?.name;

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id escrow { status chainTaskId } } }`;

/** The node's answers, with the calls `handle` answers (it returns undefined for the rest) faulted as a test needs. */
function withRpc(chain: Chain, handle: (method: string, params: unknown[], real: Rpc) => Promise<unknown> | undefined): () => void {
  const real = chain.rpc;
  const faulty: Rpc = {
    request: <T>(method: string, params: unknown[] = []) => (handle(method, params, real) ?? real.request<T>(method, params)) as Promise<T>,
  };
  (chain as { rpc: Rpc }).rpc = faulty;
  return () => {
    (chain as { rpc: Rpc }).rpc = real;
  };
}

/** The node's answers, with `eth_sendRawTransaction` routed through `send` for this test's faults. */
function withBroadcast(chain: Chain, send: (raw: string, real: Rpc) => Promise<unknown>): () => void {
  return withRpc(chain, (method, params, real) => (method === "eth_sendRawTransaction" ? send(params[0] as string, real) : undefined));
}

for (const db of testDatabases()) {
  describe(`the chain outbox under faults (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let agent: { apiKey: string; id: string };
    let restore: (() => void | Promise<unknown>) | undefined;
    /** The server's clock, which ages its cache of the node's fees. */
    const clock = new TestClock();

    const fundingRow = (taskId: string) => server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: `fund:${taskId}` });
    const fundedOnce = async (chainTaskId: string) => {
      const funded = (await escrowLogs(chain, "TaskFunded")).filter((log) => chain.escrow.parse(log)!.taskId === chainTaskId);
      expect(funded, "exactly one TaskFunded for the task").to.have.length(1);
    };

    before(async () => {
      server = await startServer(db, { CHAIN_FUNDING_WAIT_MS: "0", CHAIN_MAX_FEE_GWEI: "50" }, undefined, { clock });
      chain = testChain(server.app);
      agent = await registerAgent(server.client, "faulted");
      await server.app.escrow.idle();
    });
    afterEach(async () => {
      await restore?.();
      restore = undefined;
      await expectBooksMatchChain(server.app);
    });
    after(() => server.stop());

    it("a broadcast that fails after the transaction was signed and stored is retried with the very same bytes, and mined once", async () => {
      let refused = 2;
      const broadcasts: string[] = [];
      restore = withBroadcast(chain, async (raw, real) => {
        broadcasts.push(raw);
        if (refused-- > 0) throw new RpcError("socket hang up");
        return real.request("eth_sendRawTransaction", [raw]);
      });
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const funded = await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      await server.app.escrow.idle();
      const row = await fundingRow(postTask.id);
      expect(row).to.include({ status: ChainTxStatus.MINED, attempts: 1 });
      expect(row.previousHashes).to.deep.equal([]);
      expect(new Set(broadcasts), "every broadcast carried the same signed bytes").to.deep.equal(new Set([row.raw]));
      expect(broadcasts.length).to.be.at.least(3);
      expect(funded.escrow.fundTxHash).to.equal(row.txHash);
      await fundedOnce(postTask.escrow.chainTaskId);
    });

    it("a transaction the node took whose answer was lost (as if the process died right after broadcasting) is settled by its receipt, never sent as another", async () => {
      let lost = 1;
      restore = withBroadcast(chain, async (raw, real) => {
        const result = await real.request("eth_sendRawTransaction", [raw]);
        if (lost-- > 0) throw new RpcError("connection reset by peer");
        return result;
      });
      const nonceBefore = Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [chain.funder.address, "latest"])));
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      await server.app.escrow.idle();
      const row = await fundingRow(postTask.id);
      expect(row).to.include({ status: ChainTxStatus.MINED, attempts: 1, nonce: nonceBefore });
      expect(Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [chain.funder.address, "latest"])))).to.equal(nonceBefore + 1);
      await fundedOnce(postTask.escrow.chainTaskId);
    });

    it("a signed transaction whose nonce another transaction took is proven unable to land, then signed anew with the next nonce", async () => {
      let stolen: string | undefined;
      let stolenNonce: number | undefined;
      restore = withBroadcast(chain, async (raw, real) => {
        if (!stolen) {
          // Before HumanOps's transaction reaches the node, the key is used elsewhere with the same nonce.
          stolen = Transaction.from(raw).hash!;
          const { nonce } = Transaction.from(raw);
          stolenNonce = nonce;
          const other = await signCall(chain.funder, chain.id, nonce, { to: chain.funder.address, data: "0x" }, { gasLimit: 21_000n, ...(await chain.fees()) });
          await real.request("eth_sendRawTransaction", [other.raw]);
          throw new RpcError("socket hang up");
        }
        return real.request("eth_sendRawTransaction", [raw]);
      });
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      await server.app.escrow.idle();
      const row = await fundingRow(postTask.id);
      expect(row.previousHashes).to.deep.equal([stolen]);
      expect(row.txHash).not.to.equal(stolen);
      expect(await receiptOf(chain.rpc, stolen!), "the first signing never landed").to.equal(null);
      expect(row.status).to.equal(ChainTxStatus.MINED);
      await fundedOnce(postTask.escrow.chainTaskId);
      expect(row.nonce, "signed again with the key's next nonce").to.equal(stolenNonce! + 1);
    });

    const gwei = 10n ** 9n;
    /** Mines a block with this base fee, and moves the server's clock past its cache of the fees (asked of the node at most once a second). */
    async function setBaseFee(fee: bigint): Promise<void> {
      await chain.rpc.request("hardhat_setNextBlockBaseFeePerGas", [toHex(fee)]);
      await chain.rpc.request("evm_mine", []);
      clock.advance(1_100);
    }

    /** From a 1 gwei base fee, stops mining on its own, posts a task, and prices its funding out: the base fee becomes four times its fee cap. */
    async function fundingPricedOut(): Promise<{ taskId: string; chainTaskId: string; first: ChainTx }> {
      await setBaseFee(gwei);
      await chain.rpc.request("evm_setAutomine", [false]);
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const first = await until(async () => ((row) => (row.status === ChainTxStatus.SENT ? row : undefined))(await fundingRow(postTask.id)), "the funding to be broadcast");
      await chain.rpc.request("hardhat_setNextBlockBaseFeePerGas", [toHex(Transaction.from(first.raw!).maxFeePerGas! * 4n)]);
      await chain.rpc.request("evm_mine", []);
      return { taskId: postTask.id, chainTaskId: postTask.escrow.chainTaskId, first };
    }

    it("a transaction priced under the base fee is signed again at its nonce with higher fees, and the replacement lands once", async () => {
      restore = () => chain.rpc.request("evm_setAutomine", [true]);
      const { taskId, chainTaskId, first } = await fundingPricedOut();
      const replaced = await until(async () => ((row) => (row.previousHashes.includes(first.txHash!) && row.status === ChainTxStatus.SENT ? row : undefined))(await fundingRow(taskId)), "the replacement to be broadcast");
      const [before, after] = [Transaction.from(first.raw!), Transaction.from(replaced.raw!)];
      expect(after.nonce, "the same nonce").to.equal(before.nonce);
      expect(after.maxFeePerGas! > before.maxFeePerGas! * 4n, "a fee cap above the base fee now").to.equal(true);
      expect(after.maxPriorityFeePerGas! >= before.maxPriorityFeePerGas! + before.maxPriorityFeePerGas! / 8n, "a tip raised as replacements must be").to.equal(true);
      expect([after.to, after.data, after.gasLimit]).to.deep.equal([before.to, before.data, before.gasLimit]);

      await chain.rpc.request("evm_setAutomine", [true]);
      await chain.rpc.request("evm_mine", []);
      const funded = await waitForEscrow(server.client, agent.apiKey, taskId, ["FUNDED"]);
      await server.app.escrow.idle();
      const row = await fundingRow(taskId);
      expect(row).to.include({ status: ChainTxStatus.MINED, txHash: replaced.txHash, nonce: first.nonce });
      expect(row.previousHashes).to.deep.equal([first.txHash]);
      expect(funded.escrow.fundTxHash).to.equal(replaced.txHash);
      expect(await receiptOf(chain.rpc, first.txHash!), "the replaced signing never landed").to.equal(null);
      await fundedOnce(chainTaskId);
    });

    it("when the transaction it replaced is mined instead, that one settles the row and the replacement can never land", async () => {
      let first: ChainTx | undefined;
      let replacement: string | undefined;
      let receiptHidden = true;
      const unfault = withRpc(chain, (method, params, _real) => {
        const raw = method === "eth_sendRawTransaction" ? Transaction.from(params[0] as string) : undefined;
        // The node never hears of the replacement (its answer lost), so the first signing is what it can mine.
        if (first && raw && raw.nonce === first.nonce && raw.hash !== first.txHash) {
          replacement = raw.hash!;
          return Promise.reject(new RpcError("socket hang up"));
        }
        // Until the indexer has read the block, the sender is not told of the receipt: the indexer learns of the mined signing first.
        if (method === "eth_getTransactionReceipt" && receiptHidden && params[0] === first?.txHash) return Promise.resolve(null);
        return undefined;
      });
      restore = async () => {
        unfault();
        await chain.rpc.request("evm_setAutomine", [true]);
      };
      const priced = await fundingPricedOut();
      first = priced.first;
      await until(async () => replacement, "a replacement to be tried");
      // The base fee falls back before the replacement reaches the node: the first signing is mined.
      await chain.rpc.request("hardhat_setNextBlockBaseFeePerGas", [toHex(1n)]);
      await chain.rpc.request("evm_mine", []);
      const indexed = await waitForEscrow(server.client, agent.apiKey, priced.taskId, ["FUNDED"]);
      expect(indexed.escrow.fundTxHash, "funded from the chain's event").to.equal(first.txHash);
      const fundingRowNow = await fundingRow(priced.taskId);
      expect(fundingRowNow.status, "the sender has not settled the row yet").to.not.equal(ChainTxStatus.MINED);
      receiptHidden = false;

      await server.app.escrow.idle();
      const row = await fundingRow(priced.taskId);
      expect(row).to.include({ status: ChainTxStatus.MINED, txHash: first.txHash, nonce: first.nonce });
      expect(row.previousHashes).to.deep.equal([replacement]);
      expect(await receiptOf(chain.rpc, first.txHash!)).to.include({ status: "0x1" });
      expect(await receiptOf(chain.rpc, replacement!), "the replacement can never land").to.equal(null);
      await fundedOnce(priced.chainTaskId);
      const findings = await server.app.orm.em.fork().find(EscrowDiscrepancy, { task: priced.taskId });
      expect(findings.map((finding) => finding.kind), "the indexer knows the replaced signing as HumanOps's own").to.deep.equal([]);
    });

    it("settles a pass's mined rows in one database transaction, a savepoint each: a row whose outcome fails is rolled back alone, the others commit, and it settles on its next try from the same transaction on chain", async () => {
      const effects = (server.app.escrow.sender as unknown as { effects: OutboxEffects }).effects;
      const real = effects.mined.bind(effects);
      const [failing, fine] = [Wallet.createRandom().address, Wallet.createRandom().address];
      const calls: Array<{ recipient: string; transaction: unknown; failed: boolean }> = [];
      let faults = 1;
      effects.mined = async (em, c, row, receipt) => {
        const failed = row.recipient === failing && faults-- > 0;
        calls.push({ recipient: row.recipient!, transaction: em.getTransactionContext(), failed });
        if (failed) throw new Error("the books refused the outcome");
        return real(em, c, row, receipt);
      };
      restore = () => {
        effects.mined = real;
      };
      // Both rows are written in one flush, so one pass claims, sends and settles them together.
      const rows = [failing, fine].map((recipient, i) => new ChainTx(chain.key, ChainTxKind.MINT, `mint:savepoints:${recipient}`, chain.funder.address, { recipient, amount: BigInt(i + 1) * 1_000n }));
      await server.app.orm.em.fork().persist(rows).flush();
      server.app.escrow.wake();
      await server.app.escrow.idle();

      const [first, second] = [calls.find((call) => call.failed), calls.find((call) => call.recipient === fine)];
      expect(first?.transaction, "the failing row's outcome ran in a transaction").to.not.equal(undefined);
      expect(second?.transaction, "the two rows were settled in one transaction").to.equal(first?.transaction);
      expect(calls.filter((call) => call.recipient === failing), "the failed row was settled again").to.have.length(2);
      const em = server.app.orm.em.fork();
      const [failed, settled] = await Promise.all(rows.map((row) => em.findOneOrFail(ChainTx, row.id)));
      expect(settled).to.include({ status: ChainTxStatus.MINED, failures: 0, attempts: 1 });
      expect(failed, "settled on its next try, from the transaction it had signed").to.include({ status: ChainTxStatus.MINED, failures: 1, attempts: 1 });
      expect(failed.previousHashes).to.deep.equal([]);
      expect(await usdcBalance(chain, failing), "minted once").to.equal(1_000n);
      expect(await usdcBalance(chain, fine), "minted once").to.equal(2_000n);
    });

    it("fundings ready together go out as one fundBatch: one nonce and one transaction that every row stores, each task funded once", async () => {
      await server.app.escrow.sender.stop();
      let posted: Array<{ id: string; escrow: { chainTaskId: string } }>;
      try {
        posted = await Promise.all([1, 2, 3].map(async () => (await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask));
      } finally {
        await server.app.escrow.sender.start();
      }
      for (const task of posted) await waitForEscrow(server.client, agent.apiKey, task.id, ["FUNDED"]);
      await server.app.escrow.idle();
      const rows = await Promise.all(posted.map((task) => fundingRow(task.id)));
      expect(new Set(rows.map((row) => row.txHash)).size, "one transaction for the three").to.equal(1);
      expect(new Set(rows.map((row) => row.nonce)).size).to.equal(1);
      for (const row of rows) expect(row).to.include({ status: ChainTxStatus.MINED, attempts: 1, failures: 0 });
      expect(calledFunction(rows[0].raw!)).to.equal("fundBatch");
      const receipt = await receiptOf(chain.rpc, rows[0].txHash!);
      const funded = receipt!.logs.map((log) => chain.escrow.parse(log)).filter((event) => event?.name === "TaskFunded");
      expect(funded.map((event) => event!.taskId).sort()).to.deep.equal(posted.map((task) => task.escrow.chainTaskId).sort());
      for (const task of posted) {
        await fundedOnce(task.escrow.chainTaskId);
        const { escrow } = await waitForEscrow(server.client, agent.apiKey, task.id, ["FUNDED"]);
        expect(escrow.fundTxHash).to.equal(rows[0].txHash);
      }
    });

    it("a funding called off while its batch is being signed (a refund winning the race) drops out: the rest are signed again without it, with no nonce left unused, and it never reaches the chain", async () => {
      const nonceOf = async () => Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [chain.funder.address, "latest"])));
      const nonceBefore = await nonceOf();
      await server.app.escrow.sender.stop();
      let posted: Array<{ id: string; escrow: { chainTaskId: string } }>;
      /** Rows the race called off: 1 when the funding was still PENDING while its batch was simulated. */
      let calledOffRows: number | undefined;
      try {
        posted = await Promise.all([1, 2].map(async () => (await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask));
        // While the batch of both fundings is simulated (after the plan, before the signing is stored), the first task ends and
        // its refund calls the funding off as its own plan does: a compare-and-set of the row from PENDING to SKIPPED.
        const calledOffId = posted[0].id;
        restore = withRpc(chain, (method, params, real) => {
          const call = params[0] as { data?: string } | undefined;
          if (method !== "eth_call" || calledOffRows !== undefined || !call?.data || TaskEscrowContract.iface.parseTransaction({ data: call.data })?.name !== "fundBatch") return undefined;
          calledOffRows = 0;
          return (async () => {
            await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: calledOffId }, agent.apiKey);
            calledOffRows = await server.app.orm.em.fork().nativeUpdate(ChainTx, { intentKey: `fund:${calledOffId}`, status: ChainTxStatus.PENDING }, { status: ChainTxStatus.SKIPPED, lastError: "the task ended before it was sent", lockedUntil: null });
            return real.request(method, params);
          })();
        });
      } finally {
        await server.app.escrow.sender.start();
      }
      const [calledOff, kept] = posted;
      const funded = await waitForEscrow(server.client, agent.apiKey, kept.id, ["FUNDED"]);
      await waitForEscrow(server.client, agent.apiKey, calledOff.id, ["UNFUNDED"]);
      await server.app.escrow.idle();
      expect(calledOffRows, "the funding was still PENDING while its batch was simulated").to.equal(1);

      const keptRow = await fundingRow(kept.id);
      expect(keptRow).to.include({ status: ChainTxStatus.MINED, nonce: nonceBefore, attempts: 1, txHash: funded.escrow.fundTxHash });
      expect(calledFunction(keptRow.raw!), "signed again alone, as a single funding").to.equal("fund");
      expect(await fundingRow(calledOff.id)).to.include({ status: ChainTxStatus.SKIPPED, nonce: null, raw: null });
      expect(await nonceOf(), "one transaction, at the nonce that was next: none taken by the undone signing").to.equal(nonceBefore + 1);
      await fundedOnce(kept.escrow.chainTaskId);
      const calledOffFunded = (await escrowLogs(chain, "TaskFunded")).filter((log) => chain.escrow.parse(log)!.taskId === calledOff.escrow.chainTaskId);
      expect(calledOffFunded, "the called-off funding never reached the chain").to.have.length(0);
    });

    it("releases ready together go out as one releaseBatch; when one entry is refused on chain the batch reverts whole, every row is sent again alone, the others are paid, and the refused one settles as a single call would", async () => {
      const payees = [freshAddress(), freshAddress(), freshAddress()];
      const operators = await Promise.all(payees.map((payee, i) => operatorPaidTo(server.client, payee, `batch-${i}`)));
      const posted = await Promise.all(payees.map(async () => (await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask));
      for (const task of posted) await waitForEscrow(server.client, agent.apiKey, task.id, ["FUNDED"]);
      await Promise.all(posted.map((task, i) => server.client.ok(ACCEPT, { id: task.id }, operators[i].testApiKey)));
      const released = () => escrowLogs(chain, "TaskReleased");
      // The refused entry: its payee is blacklisted by USDC after the batch was simulated, before it is mined.
      const refused = payees[0];
      const slot = await balanceSlot(chain, refused);
      const blacklist = (on: boolean) => chain.rpc.request("hardhat_setStorageAt", [chain.usdc.address, slot, zeroPadValue(on ? toHex(1n << 255n) : "0x00", 32)]);
      let batchHash: string | undefined;
      await server.app.escrow.sender.stop();
      try {
        await Promise.all(posted.map((task, i) => server.client.ok(SUBMIT, { id: task.id, input: proof() }, operators[i].testApiKey)));
        for (const task of posted) await waitForStatus(server.client, agent.apiKey, task.id, ["VERIFIED"]);
        restore = withBroadcast(chain, async (raw, real) => {
          if (!batchHash && calledFunction(raw) === "releaseBatch") {
            batchHash = Transaction.from(raw).hash!;
            await blacklist(true);
          }
          return real.request("eth_sendRawTransaction", [raw]);
        });
      } finally {
        await server.app.escrow.sender.start();
      }
      for (const task of posted.slice(1)) await waitForStatus(server.client, agent.apiKey, task.id, ["PAID"]);
      expect(batchHash, "the three releases went out as one batch").to.not.equal(undefined);
      expect(await receiptOf(chain.rpc, batchHash!)).to.include({ status: "0x0" });
      const settleRow = (taskId: string) => server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: `settle:${taskId}` });
      const held = await until(async () => ((row) => (row.lastError?.includes("TestUSDCBlacklisted") ? row : undefined))(await settleRow(posted[0].id)), "the refused release to fail alone");
      expect(held.status, "it is not sent while its simulation is refused").to.equal(ChainTxStatus.PENDING);
      expect(held.previousHashes).to.deep.equal([batchHash]);
      for (const task of posted.slice(1)) {
        const row = await settleRow(task.id);
        expect(row).to.include({ status: ChainTxStatus.MINED, attempts: 2 });
        expect(row.previousHashes, "sent again alone after the batch reverted").to.deep.equal([batchHash]);
        expect(calledFunction(row.raw!)).to.equal("release");
      }
      expect(await usdcBalance(chain, payees[1]), "paid its reward").to.equal(15_000_000n);
      expect(await usdcBalance(chain, payees[2]), "paid its reward").to.equal(15_000_000n);

      await blacklist(false);
      await waitForStatus(server.client, agent.apiKey, posted[0].id, ["PAID"], 30_000);
      await server.app.escrow.idle();
      const paid = await settleRow(posted[0].id);
      expect(paid).to.include({ status: ChainTxStatus.MINED });
      expect(calledFunction(paid.raw!)).to.equal("release");
      const logs = (await released()).map((log) => chain.escrow.parse(log)!.taskId);
      for (const task of posted) expect(logs.filter((id) => id === task.escrow.chainTaskId), "released once").to.have.length(1);
      expect(await usdcBalance(chain, refused), "paid its reward once").to.equal(15_000_000n);
    });

    it("holds transactions back while the base fee is above CHAIN_MAX_FEE_GWEI, spending no nonce, and sends them once it falls", async () => {
      restore = () => setBaseFee(gwei);
      const nonceOf = async () => Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [chain.funder.address, "latest"])));
      const nonceBefore = await nonceOf();
      await setBaseFee(60n * gwei);
      const { postTask } = await server.client.ok(POST, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const held = await until(async () => ((row) => (row.lastError ? row : undefined))(await fundingRow(postTask.id)), "the funding to be held back");
      expect(held).to.include({ status: ChainTxStatus.PENDING, nonce: null });
      expect(held.lastError).to.match(/^the base fee \([\d.]+ gwei\) is above CHAIN_MAX_FEE_GWEI \(50 gwei\); waiting for it to fall$/);
      expect(await nonceOf(), "no transaction was sent").to.equal(nonceBefore);

      await setBaseFee(gwei);
      const funded = await waitForEscrow(server.client, agent.apiKey, postTask.id, ["FUNDED"]);
      // The indexer may fund the escrow from the chain's event before the sender has read the receipt.
      await server.app.escrow.idle();
      const row = await fundingRow(postTask.id);
      expect(row).to.include({ status: ChainTxStatus.MINED, nonce: nonceBefore, txHash: funded.escrow.fundTxHash });
      expect(Transaction.from(row.raw!).maxFeePerGas! <= 50n * gwei, "never priced above the cap").to.equal(true);
      await fundedOnce(postTask.escrow.chainTaskId);
    });
  });
}

/** The storage slot of an account's USDC balance in TestUSDC (the top bit of which is its blacklist flag), found by matching the funding wallet's balance. */
async function balanceSlot(chain: Chain, account: string): Promise<string> {
  const coder = AbiCoder.defaultAbiCoder();
  const funderBalance = await usdcBalance(chain, chain.funder.address);
  for (let index = 0; index < 16; index++) {
    const stored = await chain.rpc.request<string>("eth_getStorageAt", [chain.usdc.address, keccak256(coder.encode(["address", "uint256"], [chain.funder.address, index])), "latest"]);
    if (BigInt(stored) === funderBalance) return keccak256(coder.encode(["address", "uint256"], [account, index]));
  }
  throw new Error("TestUSDC's balance mapping was not found");
}
