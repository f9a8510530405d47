import fs from "node:fs";
import path from "node:path";
import { MikroORM as SqliteORM, defineConfig as defineSqliteConfig } from "@mikro-orm/better-sqlite";
import { MikroORM as PostgresORM, defineConfig as definePostgresConfig } from "@mikro-orm/postgresql";
import type { MikroORM } from "@mikro-orm/core";
import type { AbstractSqlDriver, EntityManager as SqlEntityManager } from "@mikro-orm/knex";
import { Migrator } from "@mikro-orm/migrations";
import type { DatabaseConfig } from "../config";
import { ENTITIES } from "./entities";
import { MIGRATIONS } from "./migrations";

export type Orm = MikroORM<AbstractSqlDriver>;
export type Em = SqlEntityManager;

export interface OrmOptions {
  /** Log SQL (debugging only). */
  debug?: boolean;
  /** Apply pending migrations on start (default true). */
  migrate?: boolean;
}

const common = {
  entities: ENTITIES,
  extensions: [Migrator],
  migrations: {
    migrationsList: MIGRATIONS,
    transactional: true,
    allOrNothing: true,
    snapshot: false,
    silent: true,
  },
  // An entity that is not found is our NOT_FOUND, thrown by the services with a clear message.
  forceUtcTimezone: true,
  allowGlobalContext: false,
  // Column defaults are declared, never inferred from initializers: MikroORM infers one by building two entities and
  // comparing a property, so an initializer like `Date.now()` became a default whenever both fell in one millisecond.
  discovery: { warnWhenNoEntities: true, requireEntitiesArray: true, inferDefaultValues: false },
};

/**
 * Opens the database named by the configuration and brings its schema up to
 * date with the checked-in migrations. Tests pass `{ kind: "sqlite", path: ":memory:" }`
 * or a PostgreSQL URL.
 */
export async function initORM(database: DatabaseConfig, options: OrmOptions = {}): Promise<Orm> {
  let orm: Orm;
  if (database.kind === "sqlite") {
    if (database.path !== ":memory:") fs.mkdirSync(path.dirname(database.path), { recursive: true });
    orm = await SqliteORM.init(
      defineSqliteConfig({
        ...common,
        dbName: database.path,
        debug: options.debug ?? false,
        pool: { afterCreate: enableSqlitePragmas },
      }),
    );
  } else {
    orm = await PostgresORM.init(
      definePostgresConfig({
        ...common,
        clientUrl: database.url,
        debug: options.debug ?? false,
        pool: { min: 0, max: 10 },
      }),
    );
  }
  if (options.migrate ?? true) await orm.getMigrator().up();
  return orm;
}

interface SqliteConnection {
  pragma(sql: string): unknown;
  prepare(sql: string): unknown;
}

/** Distinct statements each SQLite connection keeps prepared (the SQL of a list of ids varies with its length). */
const PREPARED_STATEMENTS = 500;
const SAVEPOINT = /^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) /i;

/**
 * Keeps a connection's prepared statements by their SQL, the least recently
 * used dropped past PREPARED_STATEMENTS. knex's better-sqlite3 dialect
 * prepares every statement anew (parsing and planning it against the schema:
 * 0.1-0.3 ms, a few percent of the server's CPU per settled task; see
 * docs/performance.md, Settlement); the ORM's SQL for one step is the same
 * every time, with values bound separately. A statement runs to completion
 * before the next is started (knex runs all() or run(), never iterate()),
 * so one is never busy when it is handed out again; SQLite prepares it again
 * by itself when the schema changed since.
 */
function cacheStatements(connection: SqliteConnection): void {
  const prepare = connection.prepare.bind(connection);
  const statements = new Map<string, unknown>();
  connection.prepare = (sql: string) => {
    // knex names each nested transaction anew (trx1, trx2, ...): its savepoint statements are never seen again, so not kept.
    if (SAVEPOINT.test(sql)) return prepare(sql);
    let statement = statements.get(sql);
    if (statement !== undefined) statements.delete(sql);
    else statement = prepare(sql);
    statements.set(sql, statement);
    if (statements.size > PREPARED_STATEMENTS) statements.delete(statements.keys().next().value!);
    return statement;
  };
}

/** WAL for concurrent readers, a busy timeout instead of SQLITE_BUSY, foreign keys enforced, and prepared statements kept. */
function enableSqlitePragmas(connection: SqliteConnection, done: (err: Error | null, connection: unknown) => void): void {
  try {
    connection.pragma("journal_mode = WAL");
    connection.pragma("busy_timeout = 5000");
    connection.pragma("foreign_keys = ON");
    connection.pragma("synchronous = NORMAL");
    cacheStatements(connection);
    done(null, connection);
  } catch (err) {
    done(err as Error, connection);
  }
}
