import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { spawnServer, type ChildServer } from "../live/support/child-server";
import { initORM } from "../../server/db/orm";
import { Chain } from "../../server/chain/chains";
import { Mode } from "../../server/common/mode";
import { compareBooks } from "../../server/escrow/books";
import { ChainTx, OPEN_TX_STATUSES } from "../../server/escrow/chain-tx.entity";
import { Escrow } from "../../server/escrow/escrow.entity";
import { TaskEvent } from "../../server/tasks/task-event.entity";
import { TaskStatus } from "../../server/tasks/task.enums";
import { MOCK_OPERATOR_PAYOUT } from "../../server/testmode/mock-operator";
import { escrowLogs, ownedChain, sharedDatabase, usdcBalance, type OwnedChain, type SharedDatabase } from "./support/chain";

const TASKS = 8;
const STATUSES = `query($first: Int!) { tasks(first: $first) { nodes { id status } } }`;

async function stopGracefully(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

async function statuses(client: GraphQLClient, apiKey: string): Promise<TaskStatus[]> {
  return (await client.ok(STATUSES, { first: TASKS }, apiKey)).tasks.nodes.map((t: { status: TaskStatus }) => t.status);
}

for (const db of testDatabases()) {
  describe(`a crash while settling (${db.name}, server processes on a chain that outlives them)`, () => {
    let owned: OwnedChain;
    let database: SharedDatabase;
    let server: ChildServer | undefined;

    before(async () => {
      owned = await ownedChain({ funderOwnsUsdc: true });
      database = await sharedDatabase(db);
    });
    after(async () => {
      await server?.kill();
      await owned.stop();
      await database.drop();
    });

    it("kill -9 in the middle of a batch, restart: every task is settled exactly once and the ledger equals the chain", async function () {
      this.timeout(180_000);
      // Short leases: the killed process's claimed outbox rows and jobs (a Guardian score, a mock operator's step) are taken over soon after the restart.
      const env = { ...owned.env("TEST_CHAIN_"), DATABASE_URL: database.url, CHAIN_POLL_MS: "20", CHAIN_LEASE_MS: "500", WORKER_LOCK_MS: "2000", CHAIN_FUNDING_WAIT_MS: "0" };
      server = await spawnServer(env);
      let client = new GraphQLClient(`${server.url}/graphql`);
      const agent = await registerAgent(client, "crash");
      await Promise.all(Array.from({ length: TASKS }, () => client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)));

      // Kill as soon as money has started to move out of escrow: releases are being signed, sent and recorded.
      let atKill: TaskStatus[] = [];
      for (const until = Date.now() + 60_000; Date.now() < until; ) {
        atKill = await statuses(client, agent.apiKey);
        if (atKill.includes(TaskStatus.PAID)) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await server.kill();
      expect(atKill.filter((s) => s === TaskStatus.PAID).length, "the process died with tasks still to settle").to.be.within(1, TASKS - 1);

      server = await spawnServer(env);
      client = new GraphQLClient(`${server.url}/graphql`);
      for (const until = Date.now() + 90_000; ; ) {
        const now = await statuses(client, agent.apiKey);
        if (now.every((s) => s === TaskStatus.PAID)) break;
        if (Date.now() > until) throw new Error(`after the restart, not every task was paid: ${now.join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
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
        expect(guardianTransactions, "the Guardian sent one release per task and nothing else").to.equal(TASKS);
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
