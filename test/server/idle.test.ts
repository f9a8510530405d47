import { expect } from "chai";
import { initORM, type Orm } from "../../server/db/orm";
import { createLogger } from "../../server/common/logger";
import { JobWorker, enqueue } from "../../server/jobs/job.queue";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { until } from "../support/until";
import { TestClock } from "../support/clock";

/** Statements the server's ORM sends while `work` runs. */
async function statementsDuring(server: TestServer, work: () => Promise<void>): Promise<string[]> {
  const statements: string[] = [];
  server.app.orm.config.set("onQuery", (sql: string) => {
    statements.push(sql);
    return sql;
  });
  try {
    await work();
  } finally {
    server.app.orm.config.set("onQuery", (sql: string) => sql);
  }
  return statements;
}

for (const db of testDatabases()) {
  describe(`an idle server (${db.name})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startServer(db);
    });
    after(() => server.stop());

    it("leaves the chain outbox alone until a commit queues work, then sends it at once", async () => {
      const agent = await registerAgent(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      await server.app.escrow.idle();

      // The in-process chain's outbox used to claim every 25 ms; it now looks once a second when nothing wakes it.
      const quiet = await statementsDuring(server, () => new Promise((resolve) => setTimeout(resolve, 1_500)));
      expect(quiet.filter((sql) => /update chain_txs/i.test(sql)).length).to.be.at.most(3);

      const next = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, next.postTask.id, ["PAID"]);
    });
  });

  describe(`the job worker (${db.name})`, () => {
    let orm: Orm;
    let drop: () => Promise<void>;
    let worker: JobWorker;
    // The worker judges what is due by this clock; it stands still, so no job falls due while the machine is slow.
    const clock = new TestClock();
    const ran: Array<{ id: string; at: number }> = [];

    before(async () => {
      const created = await db.create();
      drop = created.drop;
      orm = await initORM(created.database);
      clock.freeze();
      // A poll far beyond the test's patience: whatever runs here was woken.
      worker = new JobWorker(orm, createLogger("silent"), { pollMs: 60_000, concurrency: 2, lockMs: 60_000 }, clock);
      // Any kind will do: this worker runs only what the test enqueues.
      worker.register("task.expire", async (_ctx, payload) => {
        ran.push({ id: payload.taskId, at: clock.now() });
      });
      orm.em.getEventManager().registerSubscriber(worker.commitHook());
      worker.start();
    });
    after(async () => {
      await worker.stop();
      await orm.close();
      await drop();
    });

    it("runs a job as soon as the transaction that enqueued it commits, and a later one when it falls due", async () => {
      const dueAt = clock.now() + 300;
      await orm.em.fork().transactional(async (tx) => {
        enqueue(tx, "task.expire", { taskId: "now" }, { runAt: clock.now() });
        enqueue(tx, "task.expire", { taskId: "later" }, { runAt: dueAt });
      });
      await until(async () => ran.length === 1 || undefined, "the job due now to run", 10_000);
      expect(ran).to.deep.equal([{ id: "now", at: dueAt - 300 }]);

      // Its time comes: the wake-up the commit set for it claims it (the next poll is a minute away).
      clock.advance(300);
      await until(async () => ran.length === 2 || undefined, "the later job to run once due", 10_000);
      expect(ran.map((r) => r.id)).to.deep.equal(["now", "later"]);
      expect(ran[1].at).to.equal(dueAt);

      const em = orm.em.fork();
      enqueue(em, "task.expire", { taskId: "flushed" }, { runAt: clock.now() });
      await em.flush();
      await until(async () => ran.length === 3 || undefined, "a job flushed outside a transaction to run", 10_000);
    });
  });
}
