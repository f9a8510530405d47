import { setImmediate as yieldToOthers } from "node:timers/promises";
import { dialectOf, type Dialect } from "../db/dialect";
import type { Em, Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import { Periodic, type BackgroundWorker, type WorkerContext } from "./worker.runtime";

/**
 * Deletes one kind of row that has outlived its use. `pruneBatch` removes at
 * most `limit` rows in one short statement (or one short transaction) and
 * says how many it removed; the retention worker calls it again while batches
 * come back full, so no single statement holds a lock for long.
 */
export interface Pruner {
  /** What is pruned, as the soak and the logs name it (a table name). */
  readonly name: string;
  pruneBatch(em: Em, now: number, limit: number): Promise<number>;
}

/**
 * A pruner for a table whose rows say in integer epoch-millisecond columns
 * when they are done with: `where` selects the rows to delete, with `?`
 * placeholders bound to `cutoffs(now)`. One statement per batch:
 *
 *   delete from t where id in (select id from t where <where> order by id limit n)
 *
 * `where` is the same SQL on SQLite and PostgreSQL, or, where a type differs
 * (a uuid column), a function of the dialect.
 */
export function tablePruner(table: string, where: string | ((dialect: Dialect) => string), cutoffs: (now: number) => number[]): Pruner {
  return {
    name: table,
    async pruneBatch(em, now, limit) {
      const condition = typeof where === "string" ? where : where(dialectOf(em.getPlatform()));
      const sql = `delete from ${table} where id in (select id from ${table} where ${condition} order by id limit ?)`;
      const result = await em.getConnection().execute<{ affectedRows?: number }>(sql, [...cutoffs(now), limit], "run");
      return Number(result.affectedRows ?? 0);
    },
  };
}

export interface RetentionOptions {
  /** How often a pass runs (RETENTION_INTERVAL_MS). */
  intervalMs: number;
  /** Rows per delete statement (RETENTION_BATCH). */
  batch: number;
}

/** How long one pass may take before its loop counts as stuck (on top of an interval). */
const PASS_LEASE_MS = 10 * 60_000;

/**
 * Prunes what the process no longer needs (finished jobs, delivered
 * webhooks, spent idempotency records, ended sessions) on a schedule, in
 * bounded batches. Replicas may prune side by side: a row two of them pick
 * is deleted once. Financial records, task events and the ledger have no
 * pruner: they are kept.
 */
export class RetentionWorker implements BackgroundWorker {
  readonly name = "retention";
  private readonly periodic: Periodic;
  private stopping = false;

  constructor(
    private readonly orm: Orm,
    private readonly pruners: Pruner[],
    private readonly options: RetentionOptions,
    private readonly log: Logger,
  ) {
    this.periodic = new Periodic("pruning old rows", options.intervalMs, async () => void (await this.pruneOnce()), log);
  }

  start(context?: WorkerContext): void {
    this.stopping = false;
    // The first pass runs at once: a process that was down a while catches up.
    this.periodic.start(context?.loop("prune", this.periodic.leaseMs(PASS_LEASE_MS)), true);
  }

  get isRunning(): boolean {
    return this.periodic.isRunning;
  }

  stop(): Promise<void> {
    this.stopping = true;
    return this.periodic.stop();
  }

  /** One pass over every pruner; resolves with how many rows each removed. */
  async pruneOnce(now = Date.now()): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const pruner of this.pruners) {
      let total = 0;
      for (;;) {
        const count = await pruner.pruneBatch(this.orm.em.fork(), now, this.options.batch);
        total += count;
        if (count < this.options.batch || this.stopping) break;
        // Other writers (SQLite has one at a time) get their turn between batches.
        await yieldToOthers();
      }
      removed[pruner.name] = total;
    }
    if (Object.values(removed).some(Boolean)) this.log.info({ removed }, "pruned old rows");
    return removed;
  }
}
