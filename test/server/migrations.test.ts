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

  it("are idempotent: a second start applies nothing", async () => {
    const orm = await initORM({ kind: "sqlite", path: ":memory:" });
    try {
      expect(await orm.getMigrator().getPendingMigrations()).to.deep.equal([]);
      expect((await orm.getMigrator().getExecutedMigrations()).length).to.be.greaterThan(0);
    } finally {
      await orm.close();
    }
  });
});
