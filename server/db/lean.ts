import { ReferenceKind, SCALAR_TYPES, Utils, type EntityName, type EntityProperty } from "@mikro-orm/core";
import type { Knex } from "knex";
import type { Em } from "./orm";

/** A fixed read: its SQL with `?` placeholders, and a name PostgreSQL prepares it under once per connection. */
export interface LeanStatement {
  readonly name: string;
  readonly sqlite: string;
  readonly postgresql: string;
}

interface SqliteStatement {
  all(...params: unknown[]): unknown[];
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Statements prepared on each SQLite connection, reused for as long as it lives. */
const prepared = new WeakMap<object, Map<string, SqliteStatement>>();

/**
 * Declares a read that runs on the driver directly: knex's query building
 * and MikroORM's query pipeline cost ~0.3 ms a statement, and knex's
 * better-sqlite3 dialect prepares every statement anew. `sql` uses `?` for
 * parameters and is written once for both databases.
 */
export function leanStatement(name: string, sql: string): LeanStatement {
  let n = 0;
  return { name: `humanops_${name}`, sqlite: sql, postgresql: sql.replace(/\?/g, () => `$${++n}`) };
}

/**
 * Runs `statement` on a connection of the pool `em` uses, as the ORM would,
 * so it sees exactly what the ORM's reads see (on SQLite the pool's one
 * connection; a transaction in progress holds it until it ends). Answers
 * `undefined` inside a transaction of `em`, whose connection the pool cannot
 * hand out: the caller reads through the ORM there.
 */
export async function leanRows<T>(em: Em, statement: LeanStatement, params: unknown[]): Promise<T[] | undefined> {
  if (em.getTransactionContext()) return undefined;
  // Seen by the ORM's query hook like its own statements (what tests count; it may not rewrite a prepared statement).
  em.config.get("onQuery")(statement.sqlite, params);
  const knex = em.getConnection().getKnex() as Knex & { client: { acquireConnection(): Promise<unknown>; releaseConnection(connection: unknown): Promise<void> } };
  const client = knex.client;
  const connection = await client.acquireConnection();
  try {
    if (typeof (connection as Partial<SqliteConnection>).prepare !== "function") {
      // pg parses a named statement once per connection and binds it afterwards.
      const result = await (connection as PgConnection).query({ name: statement.name, text: statement.postgresql, values: params });
      return result.rows as T[];
    }
    const sqlite = connection as SqliteConnection;
    let statements = prepared.get(sqlite);
    if (!statements) prepared.set(sqlite, (statements = new Map()));
    let statementOf = statements.get(statement.name);
    if (!statementOf) statements.set(statement.name, (statementOf = sqlite.prepare(statement.sqlite)));
    return statementOf.all(...params) as T[];
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * A managed entity of a row (column names as keys) as em.find makes it: the
 * ORM's column mapping and hydration, registered in the identity map with the
 * row as what it was loaded with, so it compares as unchanged at flush. Rows
 * the database built as JSON (a task's parts) have their plain scalars
 * converted first, as em.map converts them. em.map then merges the entity a
 * second time (validating every property again, taking a new snapshot and
 * cascading through its relations): in a CPU profile of REST `GET
 * /api/v1/tasks/:id`, em.map was a quarter of the busy samples, its merge most
 * of that.
 */
export function loadedEntity<T extends object>(em: Em, entityName: EntityName<T> | string, row: Record<string, unknown>): T {
  const meta = em.getMetadata().get<T>(Utils.className(entityName));
  const data = em.getDriver().mapResult(row as never, meta) as Record<string, unknown>;
  const validator = em.getValidator();
  for (const key of Object.keys(data)) {
    const prop = meta.properties[key as never] as EntityProperty<T> | undefined;
    // What em.map converts (a JSON-built date, a number as text), and no more.
    if (prop?.kind === ReferenceKind.SCALAR && SCALAR_TYPES.includes(prop.runtimeType) && !prop.customType && (prop.setter || !prop.getter)) {
      data[key] = validator.validateProperty(prop, data[key], data);
    }
  }
  return em.getEntityFactory().create<T>(meta.className, data as never, { merge: true, refresh: true, convertCustomTypes: true });
}
