/**
 * Prints the SQL that would bring a fully migrated database in line with the
 * entities, for one dialect: the body of the next migration. Empty output
 * means the migrations and the entities agree. MikroORM's SQLite diff
 * rebuilds tables it cannot compare column by column, so there the check is
 * test/server/migrations.test.ts (the migrated schema equals the entities').
 *
 *   npm run migration:sql                      # SQLite (in memory)
 *   DATABASE_URL=postgres://... npm run migration:sql
 */
import "reflect-metadata";
import { loadConfig } from "../server/config";
import { initORM } from "../server/db/orm";

async function main(): Promise<void> {
  const { database } = loadConfig({ DATABASE_URL: process.env.DATABASE_URL ?? ":memory:" });
  const orm = await initORM(database);
  try {
    const sql = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false });
    process.stdout.write(sql.trim() ? `${sql.trim()}\n` : "");
  } finally {
    await orm.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
