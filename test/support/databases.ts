import { randomBytes } from "node:crypto";
import { MikroORM } from "@mikro-orm/postgresql";
import type { DatabaseConfig } from "../../server/config";

/**
 * The databases the server suites run on: always embedded SQLite, and
 * PostgreSQL too when TEST_POSTGRES_URL (or a postgres DATABASE_URL) is set.
 * Each server gets a fresh database, dropped when it stops.
 */
export interface TestDatabase {
  name: "sqlite" | "postgresql";
  create(): Promise<{ database: DatabaseConfig; drop(): Promise<void> }>;
}

export function postgresUrl(): string | undefined {
  const url = process.env.TEST_POSTGRES_URL ?? process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

const sqlite: TestDatabase = {
  name: "sqlite",
  async create() {
    return { database: { kind: "sqlite", path: ":memory:" }, drop: async () => undefined };
  },
};

function postgres(baseUrl: string): TestDatabase {
  return {
    name: "postgresql",
    async create() {
      const name = `humanops_test_${randomBytes(6).toString("hex")}`;
      await adminQuery(baseUrl, `create database "${name}"`);
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      return {
        database: { kind: "postgresql", url: url.toString() },
        drop: () => adminQuery(baseUrl, `drop database if exists "${name}" with (force)`),
      };
    },
  };
}

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const orm = await MikroORM.init({ clientUrl: baseUrl, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 1 } });
  try {
    await orm.em.getConnection().execute(sql);
  } finally {
    await orm.close(true);
  }
}

export function testDatabases(): TestDatabase[] {
  const url = postgresUrl();
  return url ? [sqlite, postgres(url)] : [sqlite];
}
