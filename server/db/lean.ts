import { ReferenceKind, SCALAR_TYPES, Utils, type EntityMetadata, type EntityName, type EntityProperty } from "@mikro-orm/core";
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

/**
 * Declares a read that runs on the driver directly: knex's query building
 * and MikroORM's query pipeline cost ~0.3 ms a statement. `sql` uses `?` for
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
    // The connection keeps its prepared statements by SQL (orm.ts cacheStatements): this is a lookup after the first time.
    return sqlite.prepare(statement.sqlite).all(...params) as T[];
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

/** How readOnlyEntity sets each property of an entity, worked out once per entity; null when it leaves the entity to the ORM. */
const readOnlyPlans = new WeakMap<EntityMetadata, ReadOnlyProperty[] | null>();

interface ReadOnlyProperty {
  name: string;
  convert: (value: unknown) => unknown;
}

/**
 * The row (column names as keys) as an instance of its entity's class with
 * the values the ORM's hydration gives it (its custom types, dates and
 * booleans converted alike, a relation as an instance of the related class
 * holding only its key, like an unloaded ORM reference, though `wrap()` of
 * it says it is initialized: nothing may load it), but not managed: no
 * identity map, no snapshot, no change tracking. For reads that only read
 * it, within one request: making a managed entity (em.map, loadedEntity)
 * costs ~0.1 ms for a task, most of it defining change-tracking accessors on
 * the instance (EntityHelper.ensurePropagation) and taking its snapshot;
 * this costs a few microseconds. It must never be persisted, flushed or
 * compared with the ORM's entities; an entity with a property this does not
 * map alike (an embeddable, a ScalarReference, a Ref wrapper, a collection)
 * is made managed as before.
 */
export function readOnlyEntity<T extends object>(em: Em, entityName: EntityName<T> | string, row: Record<string, unknown>): T {
  const meta = em.getMetadata().get<T>(Utils.className(entityName));
  let plan = readOnlyPlans.get(meta as EntityMetadata);
  if (plan === undefined) readOnlyPlans.set(meta as EntityMetadata, (plan = readOnlyPlan(em, meta as EntityMetadata)));
  if (!plan) return loadedEntity(em, entityName, row);
  const data = em.getDriver().mapResult(row as never, meta) as Record<string, unknown>;
  const entity = Object.create(meta.prototype) as Record<string, unknown>;
  for (const prop of plan) {
    const value = data[prop.name];
    if (value === undefined) continue;
    ownValue(entity, prop.name, value === null ? null : prop.convert(value));
  }
  return entity as T;
}

/**
 * Sets a property as a plain value of the object's own: an assignment would
 * go through the setter the ORM defines on an entity's prototype
 * (propagation), which makes the entity's helper, marks it touched and
 * defines a change-tracking accessor on the instance, all for nothing here.
 */
function ownValue(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
}

/** A date column's value as the ORM's hydrator reads it: a text without a zone is in the platform's time zone (UTC here, forceUtcTimezone). */
function dateOf(value: unknown, timezone: string | undefined): Date {
  if (value instanceof Date) return value;
  if (!timezone || timezone === "local" || typeof value === "number") return new Date(value as string | number);
  const text = String(value);
  return text.includes("+") || text.lastIndexOf("-") > 10 || text.endsWith("Z") ? new Date(text) : new Date(text + timezone);
}

function readOnlyPlan(em: Em, meta: EntityMetadata): ReadOnlyProperty[] | null {
  const platform = em.getPlatform();
  const timezone = platform.getTimezone();
  const plan: ReadOnlyProperty[] = [];
  for (const prop of meta.hydrateProps) {
    if (prop.ref || prop.mapToPk || prop.embedded) return null;
    if (prop.kind === ReferenceKind.SCALAR) {
      const customType = prop.customType;
      if (customType) plan.push({ name: prop.name, convert: (value) => customType.convertToJSValue(value, platform, { mode: "serialization" }) });
      else if (prop.runtimeType === "boolean") plan.push({ name: prop.name, convert: (value) => !!value });
      else if (prop.runtimeType === "Date" && !platform.isNumericProperty(prop)) plan.push({ name: prop.name, convert: (value) => dateOf(value, timezone) });
      else plan.push({ name: prop.name, convert: (value) => value });
    } else if ((prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)) && prop.targetMeta?.primaryKeys.length === 1) {
      const target = prop.targetMeta;
      const key = target.primaryKeys[0];
      plan.push({
        name: prop.name,
        convert: (value) => {
          const reference = Object.create(target.prototype as object) as Record<string, unknown>;
          ownValue(reference, key, value);
          return reference;
        },
      });
    } else {
      return null;
    }
  }
  return plan;
}
