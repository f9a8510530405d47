import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MikroORM } from "@mikro-orm/postgresql";
import type { DatabaseConfig } from "../../server/config";
import { initORM } from "../../server/db/orm";

/**
 * The databases the server suites run on: always embedded SQLite, and
 * PostgreSQL too when TEST_POSTGRES_URL (or a postgres DATABASE_URL) is set.
 * Each server gets a fresh database, dropped when it stops.
 *
 * A fresh database is a copy of a template that has every checked-in
 * migration applied (a SQLite file copied, a PostgreSQL `CREATE DATABASE ...
 * TEMPLATE`), so a server starting on it finds nothing to migrate: running
 * the migrations for each of the suite's hundreds of servers cost a second or
 * two apiece. The template is made once, by whichever process needs it
 * first, and named by a fingerprint of the migrations' sources, so a changed
 * migration gets a template of its own. test/server/migrations.test.ts still
 * migrates empty databases step by step.
 */
export interface TestDatabase {
  name: "sqlite" | "postgresql";
  create(): Promise<{ database: DatabaseConfig; drop(): Promise<void> }>;
}

export function postgresUrl(): string | undefined {
  const url = process.env.TEST_POSTGRES_URL ?? process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? url : undefined;
}

const ROOT = path.join(__dirname, "..", "..");
const MIGRATIONS_DIR = path.join(ROOT, "server", "db", "migrations");
/** Besides the migrations: the dialect switch they apply through, how the ORM opens and migrates a database, and the installed packages (MikroORM's migrator among them). */
const TEMPLATE_INPUTS = [path.join(ROOT, "server", "db", "dialect.ts"), path.join(ROOT, "server", "db", "orm.ts"), path.join(ROOT, "package-lock.json")];

/** The migrations' sources and what they run with, hashed: what the templates are named by. */
function migrationsFingerprint(): string {
  const hash = createHash("sha256");
  const files = [...fs.readdirSync(MIGRATIONS_DIR).sort().map((file) => path.join(MIGRATIONS_DIR, file)), ...TEMPLATE_INPUTS];
  for (const file of files) hash.update(path.relative(ROOT, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

let fingerprint: string | undefined;
const templateName = () => (fingerprint ??= migrationsFingerprint());

/** Where a test's SQLite files go: memory-backed when the machine has /dev/shm, as `:memory:` was. */
const SQLITE_DIR = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
/** Files of this process's databases not dropped yet: removed when the process exits, whatever a test forgot. */
const sqliteFiles = new Set<string>();
process.once("exit", () => {
  for (const file of sqliteFiles) removeSqlite(file);
});

function removeSqlite(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(`${file}${suffix}`, { force: true });
  sqliteFiles.delete(file);
}

let sqliteTemplate: Promise<string> | undefined;

/** The migrated SQLite template: made under a name of this process's, then renamed into place (another process may win the race: either file is the same). */
function sqliteTemplateFile(): Promise<string> {
  return (sqliteTemplate ??= (async () => {
    const file = path.join(os.tmpdir(), `humanops-template-${templateName()}.db`);
    if (fs.existsSync(file)) return file;
    const building = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      const orm = await initORM({ kind: "sqlite", path: building });
      // One self-contained file: the write-ahead log folded back in, so copying the file alone copies the database.
      await orm.em.getConnection().execute("pragma wal_checkpoint(TRUNCATE)");
      await orm.close(true);
      fs.renameSync(building, file);
    } finally {
      removeSqlite(building);
    }
    return file;
  })());
}

const sqlite: TestDatabase = {
  name: "sqlite",
  async create() {
    const template = await sqliteTemplateFile();
    const file = path.join(SQLITE_DIR, `humanops-test-${process.pid}-${randomBytes(6).toString("hex")}.db`);
    sqliteFiles.add(file);
    fs.copyFileSync(template, file);
    return { database: { kind: "sqlite", path: file }, drop: async () => removeSqlite(file) };
  },
};

const postgresTemplates = new Map<string, Promise<string>>();

/**
 * The migrated PostgreSQL template on this server: made under an advisory
 * lock (the suite's worker processes start at once), migrated under a
 * building name and renamed when done, so a run killed halfway never leaves
 * a half-migrated template to be copied.
 */
function postgresTemplate(baseUrl: string): Promise<string> {
  let template = postgresTemplates.get(baseUrl);
  if (!template) {
    template = (async () => {
      const name = `humanops_template_${templateName()}`;
      const admin = await adminConnection(baseUrl);
      try {
        const connection = admin.em.getConnection();
        await connection.execute("select pg_advisory_lock(hashtext('humanops test templates'))");
        try {
          const exists = await connection.execute("select 1 from pg_database where datname = ?", [name]);
          if (exists.length > 0) return name;
          const building = `${name}_building`;
          await connection.execute(`drop database if exists "${building}" with (force)`);
          await connection.execute(`create database "${building}"`);
          const orm = await initORM({ kind: "postgresql", url: databaseUrl(baseUrl, building) });
          await orm.close(true);
          await connection.execute(`alter database "${building}" rename to "${name}"`);
          return name;
        } finally {
          await connection.execute("select pg_advisory_unlock(hashtext('humanops test templates'))");
        }
      } finally {
        await admin.close(true);
      }
    })();
    // A failure is not remembered: the next server tries again.
    template.catch(() => postgresTemplates.delete(baseUrl));
    postgresTemplates.set(baseUrl, template);
  }
  return template;
}

function databaseUrl(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function postgres(baseUrl: string): TestDatabase {
  return {
    name: "postgresql",
    async create() {
      const template = await postgresTemplate(baseUrl);
      const name = `humanops_test_${randomBytes(6).toString("hex")}`;
      await adminQuery(baseUrl, `create database "${name}" template "${template}"`);
      return {
        database: { kind: "postgresql", url: databaseUrl(baseUrl, name) },
        drop: () => adminQuery(baseUrl, `drop database if exists "${name}" with (force)`),
      };
    },
  };
}

function adminConnection(baseUrl: string): Promise<MikroORM> {
  return MikroORM.init({ clientUrl: baseUrl, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 1 } });
}

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const orm = await adminConnection(baseUrl);
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
