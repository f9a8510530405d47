import { expect } from "chai";
import { initORM } from "../../server/db/orm";
import { postgresUrl, testDatabases } from "../support/databases";

type SchemaRow = { type: string; name: string; sql: string | null };

describe("migrations", () => {
  it("build on SQLite exactly the schema the entities describe", async () => {
    const migrated = await initORM({ kind: "sqlite", path: ":memory:" });
    // The entities' own schema, read with the server's metadata options (column defaults are declared, not inferred).
    const generated = await initORM({ kind: "sqlite", path: ":memory:" }, { migrate: false });
    try {
      await generated.schema.createSchema();
      const read = async (orm: { em: { getConnection(): { execute<T>(sql: string): Promise<T> } } }) =>
        (await orm.em.getConnection().execute<SchemaRow[]>(
          `select type, name, sql from sqlite_master where name not like 'sqlite_%' and name != 'mikro_orm_migrations' and tbl_name != 'mikro_orm_migrations' order by name`,
        )).map((row) => ({ ...row, sql: row.sql?.replace(/\s+/g, " ") ?? null }));
      expect(await read(migrated)).to.deep.equal(await read(generated));
    } finally {
      await migrated.close();
      await generated.close();
    }
  });

  (postgresUrl() ? it : it.skip)("leave nothing for the PostgreSQL schema diff to do (needs TEST_POSTGRES_URL)", async () => {
    const db = testDatabases().find((d) => d.name === "postgresql")!;
    const { database, drop } = await db.create();
    const orm = await initORM(database);
    try {
      expect((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).to.equal("");
    } finally {
      await orm.close();
      await drop();
    }
  });

  it("rebuild SQLite's tasks table for FRAUD with every row kept and the other tables' foreign keys still on tasks", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" }, { migrate: false });
    try {
      await orm.getMigrator().up({ to: "Migration20261202040000PhotoStore" });
      const sql = (query: string) => orm.em.getConnection().execute<Array<Record<string, unknown>>>(query);
      const now = Date.now();
      await sql(`insert into agents (id, created_at, updated_at, name, email) values ('a1', ${now}, ${now}, 'agent', 'a@example.com')`);
      await sql(
        `insert into tasks (id, created_at, updated_at, agent_id, mode, status, title, description, task_type, lat, lng, reward_units, fee_units, deadline, proof_requirements, attempts, max_attempts, test_scenario) ` +
          `values ('t1', ${now}, ${now}, 'a1', 'TEST', 'POSTED', 'Photo', 'Of the facade', 'PHOTO', 30.2, -97.7, 15000000, 1500000, ${now + 86_400_000}, '[]', 0, 3, 'REVIEW')`,
      );
      await sql(`insert into task_events (task_id, to_status, actor_type, created_at) values ('t1', 'POSTED', 'AGENT', ${now})`);
      await sql(`insert into ledger_entries (mode, kind, from_account, to_account, amount, task_id, created_at) values ('TEST', 'ESCROW_FUND', 'agent:a1', 'escrow:t1', 16500000, 't1', ${now})`);
      await orm.getMigrator().up();
      expect(await sql("select id, test_scenario from tasks")).to.deep.equal([{ id: "t1", test_scenario: "REVIEW" }]);
      expect(await sql("select task_id from ledger_entries"), "not nulled by the drop (on delete set null)").to.deep.equal([{ task_id: "t1" }]);
      expect(await sql("pragma foreign_key_check")).to.deep.equal([]);
      const [events] = await sql("select sql from sqlite_master where name = 'task_events'");
      expect(events.sql).to.include("references `tasks`(`id`)");
      await sql("update tasks set test_scenario = 'FRAUD' where id = 't1'");
    } finally {
      await orm.close();
    }
  });

  it("give tasks whose escrow is funded their funding time, and no other task one", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" }, { migrate: false });
    try {
      await orm.getMigrator().up({ to: "Migration20261202080000BrowserSessions" });
      const sql = (query: string) => orm.em.getConnection().execute<Array<Record<string, unknown>>>(query);
      const now = Date.now();
      await sql(`insert into agents (id, created_at, updated_at, name, email) values ('a1', ${now}, ${now}, 'agent', 'a@example.com')`);
      // t1 funded (its ESCROW_FUNDED event gives the time), t2 funded with no event (the escrow's last change), t3 still funding, t4 refunded.
      for (const [task, escrow] of [["t1", "FUNDED"], ["t2", "FUNDED"], ["t3", "FUNDING"], ["t4", "REFUNDED"]]) {
        await sql(
          `insert into tasks (id, created_at, updated_at, agent_id, mode, status, title, description, task_type, lat, lng, reward_units, fee_units, deadline, proof_requirements, attempts, max_attempts) ` +
            `values ('${task}', ${now}, ${now}, 'a1', 'TEST', 'POSTED', 'Photo', 'Of the facade', 'PHOTO', 30.2, -97.7, 15000000, 1500000, ${now + 86_400_000}, '[]', 0, 3)`,
        );
        await sql(
          `insert into escrows (id, created_at, updated_at, task_id, mode, chain_key, chain_id, contract, chain_task_id, funder, amount, fee, deadline, grace_period, status) ` +
            `values ('e-${task}', ${now}, ${now + 2_000}, '${task}', 'TEST', 'local', 31337, '0x0', '0x${task}', '0x0', 15000000, 1500000, ${now + 86_400_000}, 86400, '${escrow}')`,
        );
      }
      await sql(`insert into task_events (task_id, from_status, to_status, actor_type, created_at, kind) values ('t1', 'POSTED', 'POSTED', 'SYSTEM', ${now + 1_000}, 'ESCROW_FUNDED')`);
      await orm.getMigrator().up();
      expect(await sql("select id, funded_at from tasks order by id")).to.deep.equal([
        { id: "t1", funded_at: now + 1_000 },
        { id: "t2", funded_at: now + 2_000 },
        { id: "t3", funded_at: null },
        { id: "t4", funded_at: null },
      ]);
    } finally {
      await orm.close();
    }
  });

  it("are idempotent: a second start applies nothing", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" });
    try {
      expect(await orm.getMigrator().getPendingMigrations()).to.deep.equal([]);
      expect((await orm.getMigrator().getExecutedMigrations()).length).to.be.greaterThan(0);
    } finally {
      await orm.close();
    }
  });

  it("rebuild SQLite's task_events for MESSAGE_POSTED with every event kept, in order, under its id", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" }, { migrate: false });
    try {
      await orm.getMigrator().up({ to: "Migration20261202170000AcceptWindow" });
      const sql = (query: string) => orm.em.getConnection().execute<Array<Record<string, unknown>>>(query);
      const now = Date.now();
      await sql(`insert into agents (id, created_at, updated_at, name, email) values ('a1', ${now}, ${now}, 'agent', 'a@example.com')`);
      await sql(
        `insert into tasks (id, created_at, updated_at, agent_id, mode, status, title, description, task_type, lat, lng, reward_units, fee_units, deadline, proof_requirements, attempts, max_attempts) ` +
          `values ('t1', ${now}, ${now}, 'a1', 'TEST', 'POSTED', 'Photo', 'Of the facade', 'PHOTO', 30.2, -97.7, 15000000, 1500000, ${now + 86_400_000}, '[]', 0, 3)`,
      );
      await sql(`insert into task_events (id, task_id, to_status, actor_type, created_at) values (7, 't1', 'POSTED', 'AGENT', ${now})`);
      await sql(`insert into task_events (id, task_id, from_status, to_status, actor_type, created_at, kind, reason) values (9, 't1', 'POSTED', 'POSTED', 'SYSTEM', ${now + 1}, 'ESCROW_FUNDED', 'funded')`);
      await orm.getMigrator().up();
      expect(await sql("select id, kind, reason from task_events order by id")).to.deep.equal([
        { id: 7, kind: "STATUS_CHANGED", reason: null },
        { id: 9, kind: "ESCROW_FUNDED", reason: "funded" },
      ]);
      await sql(`insert into task_events (task_id, from_status, to_status, actor_type, created_at, kind) values ('t1', 'POSTED', 'POSTED', 'AGENT', ${now + 2}, 'MESSAGE_POSTED')`);
      expect(await sql("select max(id) as id from task_events"), "ids go on after the kept ones").to.deep.equal([{ id: 10 }]);
      expect(await sql("pragma foreign_key_check")).to.deep.equal([]);
    } finally {
      await orm.close();
    }
  });
  it("rebuild SQLite's task_events for RATED and TIP_PAID with every event kept under its id and messages still pointing at theirs", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" }, { migrate: false });
    try {
      await orm.getMigrator().up({ to: "Migration20261203050000X402Payments" });
      const sql = (query: string) => orm.em.getConnection().execute<Array<Record<string, unknown>>>(query);
      const now = Date.now();
      await sql(`insert into agents (id, created_at, updated_at, name, email) values ('a1', ${now}, ${now}, 'agent', 'a@example.com')`);
      await sql(`insert into operators (id, created_at, updated_at, name, email, payout_address) values ('o1', ${now}, ${now}, 'operator', 'o@example.com', '0x0000000000000000000000000000000000000001')`);
      await sql(
        `insert into tasks (id, created_at, updated_at, agent_id, mode, status, title, description, task_type, lat, lng, reward_units, fee_units, deadline, proof_requirements, attempts, max_attempts) ` +
          `values ('t1', ${now}, ${now}, 'a1', 'TEST', 'DISPUTED', 'Photo', 'Of the facade', 'PHOTO', 30.2, -97.7, 15000000, 1500000, ${now + 86_400_000}, '[]', 0, 3)`,
      );
      await sql(`insert into task_events (id, task_id, from_status, to_status, actor_type, created_at, kind, reason) values (4, 't1', 'ACCEPTED', 'ACCEPTED', 'OPERATOR', ${now}, 'MESSAGE_POSTED', 'message from the operator')`);
      await sql(`insert into task_events (id, task_id, from_status, to_status, actor_type, created_at, kind) values (6, 't1', 'VERIFIED', 'DISPUTED', 'ADMIN', ${now + 1}, 'TIPPED')`);
      await sql(`insert into task_messages (id, created_at, updated_at, task_id, operator_id, author, text, event_id) values ('m1', ${now}, ${now}, 't1', 'o1', 'OPERATOR', 'hello', 4)`);
      await orm.getMigrator().up();
      expect(await sql("select id, kind, to_status, actor_type from task_events order by id")).to.deep.equal([
        { id: 4, kind: "MESSAGE_POSTED", to_status: "ACCEPTED", actor_type: "OPERATOR" },
        { id: 6, kind: "TIPPED", to_status: "DISPUTED", actor_type: "ADMIN" },
      ]);
      expect(await sql("select event_id from task_messages")).to.deep.equal([{ event_id: 4 }]);
      await sql(`insert into task_events (task_id, from_status, to_status, actor_type, created_at, kind) values ('t1', 'DISPUTED', 'DISPUTED', 'OPERATOR', ${now + 2}, 'RATED')`);
      await sql(`insert into task_events (task_id, from_status, to_status, actor_type, created_at, kind) values ('t1', 'DISPUTED', 'DISPUTED', 'SYSTEM', ${now + 3}, 'TIP_PAID')`);
      expect(await sql("select max(id) as id from task_events"), "ids go on after the kept ones").to.deep.equal([{ id: 8 }]);
      expect(await sql("pragma foreign_key_check")).to.deep.equal([]);
    } finally {
      await orm.close();
    }
  });
});
