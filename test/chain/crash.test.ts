import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { eventually } from "../support/until";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { spawnServer, type ChildServer } from "../live/support/child-server";
import { initORM } from "../../server/db/orm";
import { Chain } from "../../server/chain/chains";
import { Mode } from "../../server/common/mode";
import { compareBooks } from "../../server/escrow/books";
import { ChainTx, ChainTxKind, OPEN_TX_STATUSES } from "../../server/escrow/chain-tx.entity";
import { Escrow } from "../../server/escrow/escrow.entity";
import { TaskEvent } from "../../server/tasks/task-event.entity";
import { TaskStatus } from "../../server/tasks/task.enums";
import { MOCK_OPERATOR_PAYOUT } from "../../server/testmode/mock-operator";
import { escrowLogs, ownedChain, sharedDatabase, usdcBalance, type OwnedChain, type SharedDatabase } from "./support/chain";

const TASKS = 8;
/** The killed process's outbox rows stay leased this long: longer than recovery may take. */
const LEASE_MS = 30_000;
/**
 * A correctness bound, not a speed benchmark: every task is paid this soon
 * after the restart, so recovery waits neither for the dead process's leases
 * nor for backoff behind a nonce it never broadcast.
 */
const RECOVERY_BOUND_MS = 20_000;
const STATUSES = `query($first: Int!) { tasks(first: $first) { nodes { id status } } }`;

async function stopGracefully(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

async function statuses(client: GraphQLClient, apiKey: string): Promise<TaskStatus[]> {
  return (await client.ok(STATUSES, { first: TASKS }, apiKey)).tasks.nodes.map((t: { status: TaskStatus }) => t.status);
}

/**
 * A JSON-RPC proxy to the chain that can hold broadcasts back: while held,
 * eth_sendRawTransaction requests wait, and are dropped when let go (their
 * caller was killed meanwhile: signed and stored, never sent).
 */
interface BroadcastGate {
  url: string;
  /** Broadcasts held right now. */
  holding: number;
  hold(): void;
  dropHeld(): void;
  close(): Promise<void>;
}

async function broadcastGate(upstream: string): Promise<BroadcastGate> {
  let letGo: (() => void) | undefined;
  let released = Promise.resolve();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    if (letGo && body.includes("eth_sendRawTransaction")) {
      gate.holding += 1;
      await released;
      gate.holding -= 1;
      return void res.destroy();
    }
    const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const gate: BroadcastGate = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holding: 0,
    hold() {
      released = new Promise((resolve) => (letGo = resolve));
    },
    dropHeld() {
      letGo?.();
      letGo = undefined;
    },
    close() {
      gate.dropHeld();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return gate;
}

for (const db of testDatabases()) {
  describe(`a crash while settling (${db.name}, server processes on a chain that outlives them)`, () => {
    let owned: OwnedChain;
    let database: SharedDatabase;
    let server: ChildServer | undefined;
    let proxy: BroadcastGate;

    before(async () => {
      owned = await ownedChain({ funderOwnsUsdc: true });
      proxy = await broadcastGate(owned.url);
      database = await sharedDatabase(db);
    });
    after(async () => {
      await server?.kill();
      await proxy.close();
      await owned.stop();
      await database.drop();
    });

    it("kill -9 in the middle of a batch, restart: every task is settled exactly once, within seconds, and the ledger equals the chain", async function () {
      this.timeout(180_000);
      // The process dies with transactions signed and stored but never sent (later nonces of their keys wait behind them).
      // The killed process's outbox rows stay leased for LEASE_MS; its jobs (a Guardian score, a mock operator's step) are taken over soon after the restart.
      const env = {
        ...owned.env("TEST_CHAIN_"),
        TEST_CHAIN_RPC_URL: proxy.url,
        DATABASE_URL: database.url,
        CHAIN_POLL_MS: "20",
        CHAIN_LEASE_MS: String(LEASE_MS),
        WORKER_LOCK_MS: "2000",
        CHAIN_FUNDING_WAIT_MS: "0",
      };
      server = await spawnServer(env);
      let client = new GraphQLClient(`${server.url}/graphql`);
      const agent = await registerAgent(client, "crash");
      await Promise.all(Array.from({ length: TASKS }, () => client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)));

      // Kill as soon as money has started to move out of escrow (releases are being signed, sent and recorded), with a signed release on its way to the node.
      let atKill: TaskStatus[] = [];
      for (const until = Date.now() + 60_000; Date.now() < until; ) {
        atKill = await statuses(client, agent.apiKey);
        if (atKill.includes(TaskStatus.PAID)) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      proxy.hold();
      await eventually(() => proxy.holding > 0, "a broadcast held on its way to the node");
      atKill = await statuses(client, agent.apiKey);
      await server.kill();
      proxy.dropHeld();
      expect(atKill.filter((s) => s === TaskStatus.PAID).length, "the process died with tasks still to settle").to.be.within(1, TASKS - 1);

      server = await spawnServer(env);
      const restartedAt = Date.now();
      client = new GraphQLClient(`${server.url}/graphql`);
      for (const until = restartedAt + RECOVERY_BOUND_MS; ; ) {
        const now = await statuses(client, agent.apiKey);
        if (now.every((s) => s === TaskStatus.PAID)) break;
        if (Date.now() > until) throw new Error(`${RECOVERY_BOUND_MS} ms after the restart, not every task was paid: ${now.join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(Date.now() - restartedAt, "milliseconds from the restart until every task was paid").to.be.at.most(RECOVERY_BOUND_MS);
      const orm = await initORM(database.config);
      try {
        const em = orm.em.fork();
        for (;;) {
          if ((await em.count(ChainTx, { status: { $in: [...OPEN_TX_STATUSES] } })) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await stopGracefully(server);
        server = undefined;

        const paidEvents = await em.count(TaskEvent, { toStatus: TaskStatus.PAID });
        expect(paidEvents, "one VERIFIED → PAID per task").to.equal(TASKS);
        const chain = new Chain({
          mode: Mode.TEST,
          chainId: 31337,
          rpc: owned.rpc,
          deployment: owned.deployment,
          funder: owned.funder,
          guardian: owned.guardian,
          treasury: owned.treasury,
          confirmations: 1,
          pollMs: 20,
          maxFeePerGas: 10n ** 10n,
          mintable: true,
        });
        const chainTaskIds = (await em.find(Escrow, {})).map((e) => e.chainTaskId);
        expect(chainTaskIds).to.have.length(TASKS);
        for (const name of ["TaskFunded", "TaskReleased"]) {
          const ids = (await escrowLogs(chain, name)).map((log) => chain.escrow.parse(log)!.taskId);
          expect(ids.sort(), `one ${name} per task, none twice`).to.deep.equal([...chainTaskIds].sort());
        }
        const guardianTransactions = Number(BigInt(await owned.rpc.request<string>("eth_getTransactionCount", [owned.guardian.address, "latest"])));
        // Releases ready together go out as one releaseBatch: a transaction pays one task or several.
        const releases = new Set((await em.find(ChainTx, { kind: ChainTxKind.RELEASE })).map((row) => row.txHash));
        expect(guardianTransactions, "the Guardian sent the releases the outbox recorded and nothing else").to.equal(releases.size);
        expect(guardianTransactions, "no more than one release per task").to.be.within(1, TASKS);
        expect(await usdcBalance(chain, MOCK_OPERATOR_PAYOUT)).to.equal(BigInt(TASKS) * 15_000_000n);
        expect(await usdcBalance(chain, owned.treasury)).to.equal(BigInt(TASKS) * 1_500_000n);

        const books = await compareBooks(em, chain, { scanChain: true });
        for (const [name, line] of Object.entries(books)) expect(line.ledger, `${name}: the ledger's total against the chain's`).to.equal(line.chain);
      } finally {
        await orm.close();
      }
    });
  });
}
