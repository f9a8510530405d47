import { expect } from "chai";
import { Transaction } from "ethers";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent, taskInput } from "../support/fixtures";
import type { Chain } from "../../server/chain/chains";
import { RpcError, type Rpc } from "../../server/chain/rpc";
import { receiptOf, signCall } from "../../server/chain/transactions";
import { ChainTx, ChainTxStatus } from "../../server/escrow/chain-tx.entity";
import { escrowLogs, expectBooksMatchChain, testChain, waitForEscrow } from "./support/chain";

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id escrow { status chainTaskId } } }`;

/** The node's answers, with `eth_sendRawTransaction` routed through `send` for this test's faults. */
function withBroadcast(chain: Chain, send: (raw: string, real: Rpc) => Promise<unknown>): () => void {
  const real = chain.rpc;
  const faulty: Rpc = {
    request: <T>(method: string, params: unknown[] = []) => (method === "eth_sendRawTransaction" ? (send(params[0] as string, real) as Promise<T>) : real.request<T>(method, params)),
  };
  (chain as { rpc: Rpc }).rpc = faulty;
  return () => {
    (chain as { rpc: Rpc }).rpc = real;
  };
}

for (const db of testDatabases()) {
  describe(`the chain outbox under faults (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let agent: { apiKey: string; id: string };
    let restore: (() => void) | undefined;

    const fundingRow = (taskId: string) => server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: `fund:${taskId}` });
    const fundedOnce = async (chainTaskId: string) => {
      const funded = (await escrowLogs(chain, "TaskFunded")).filter((log) => chain.escrow.parse(log)!.taskId === chainTaskId);
      expect(funded, "exactly one TaskFunded for the task").to.have.length(1);
    };

    before(async () => {
      server = await startServer(db, { CHAIN_FUNDING_WAIT_MS: "0" });
      chain = testChain(server.app);
      agent = await registerAgent(server.client, "faulted");
      await server.app.escrow.idle();
    });
    afterEach(async () => {
      restore?.();
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
  });
}
