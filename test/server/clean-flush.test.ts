import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { DatabaseConfig } from "../../server/config";
import { initORM } from "../../server/db/orm";
import { ENTITIES } from "../../server/db/entities";
import { Task } from "../../server/tasks/task.entity";
import { testDatabases } from "../support/databases";
import { startServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";

/** Every entity a settled test task leaves behind; the others are checked too when rows exist. */
const SETTLED = ["Agent", "ApiKey", "Operator", "Task", "TaskEvent", "Proof", "ProofPhoto", "Verification", "LedgerEntry", "Job", "Escrow", "ChainTx", "ChainInstance", "ChainSigner"];

for (const db of testDatabases()) {
  describe(`loaded entities stay clean (${db.name})`, () => {
    let database: DatabaseConfig;
    let cleanup: () => Promise<void>;
    let taskId: string;

    before(async () => {
      // A database of its own (a file on SQLite), settled by a real server that then stops, so the only SQL counted below is ours.
      if (db.name === "sqlite") {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-flush-"));
        database = { kind: "sqlite", path: path.join(dir, "humanops.db") };
        cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      } else {
        const created = await db.create();
        database = created.database;
        cleanup = created.drop;
      }
      const server = await startServer({ database });
      try {
        const agent = await registerAgent(server.client);
        const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
        taskId = postTask.id;
        await waitForStatus(server.client, agent.apiKey, taskId, ["PAID"]);
        await server.app.escrow.idle();
      } finally {
        await server.stop();
      }
    });
    after(() => cleanup());

    /** Opens the settled database and counts every statement the ORM sends from now on. */
    async function openCounting(): Promise<{ orm: Awaited<ReturnType<typeof initORM>>; statements: string[] }> {
      const orm = await initORM(database, { migrate: false });
      const statements: string[] = [];
      orm.config.set("onQuery", (sql: string) => {
        statements.push(sql);
        return sql;
      });
      return { orm, statements };
    }

    it("flushing every loaded row unchanged sends no SQL and bumps no version", async () => {
      const { orm, statements } = await openCounting();
      try {
        const em = orm.em.fork();
        const loaded: Record<string, number> = {};
        for (const entity of ENTITIES) loaded[entity.name] = (await em.find(entity as never, {})).length;
        for (const name of SETTLED) expect(loaded[name], `${name} rows`).to.be.greaterThan(0);
        const before = (await em.findOneOrFail(Task, taskId)).version;

        statements.length = 0;
        await em.flush();
        expect(statements).to.deep.equal([]);

        const after = await orm.em.fork().findOneOrFail(Task, taskId);
        expect(after.version).to.equal(before);
      } finally {
        await orm.close();
      }
    });

    it("changing one field writes that field alone and bumps the version once", async () => {
      const { orm, statements } = await openCounting();
      try {
        const em = orm.em.fork();
        const task = await em.findOneOrFail(Task, taskId);
        const { version, createdAt, deadline } = task;
        task.description = "Facade, signage and the door";
        statements.length = 0;
        await em.flush();
        const updates = statements.filter((sql) => /^update/i.test(sql));
        expect(updates).to.have.length(1);
        expect(updates[0]).to.match(/`?"?description"?`? = /);
        expect(updates[0]).not.to.match(/created_at|deadline/);

        const reread = await orm.em.fork().findOneOrFail(Task, taskId);
        expect(reread.version).to.equal(version + 1);
        expect(reread.createdAt.getTime()).to.equal(createdAt.getTime());
        expect(reread.deadline.getTime()).to.equal(deadline.getTime());
      } finally {
        await orm.close();
      }
    });
  });
}
