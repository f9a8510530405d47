import { hostname } from "node:os";
import type { Em, Orm } from "../db/orm";
import { dialectOf } from "../db/dialect";
import type { Logger } from "../common/logger";
import { Job, JobStatus } from "./job.entity";

export interface JobContext {
  em: Em;
  job: Job;
}

export type JobHandler = (ctx: JobContext, payload: Record<string, unknown>) => Promise<void>;

export interface EnqueueOptions {
  /** When to run (default now). */
  runAt?: Date | number;
  /** A unique key: a second job with it makes the enqueueing transaction fail, guarding against double scheduling. */
  dedupeKey?: string;
  maxAttempts?: number;
}

/** Adds a job to the caller's unit of work: it exists if and only if the caller's transaction commits. */
export function enqueue(em: Em, kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Job {
  const runAt = options.runAt instanceof Date ? options.runAt.getTime() : (options.runAt ?? Date.now());
  const job = new Job(kind, payload, runAt, options.maxAttempts ?? 10, options.dedupeKey);
  em.persist(job);
  return job;
}

interface ClaimedRow {
  id: string | number;
}

/**
 * Runs durable jobs. Several workers (in one process or many replicas) share
 * the table: a claim sets a lease (`locked_until`) with `FOR UPDATE SKIP
 * LOCKED` on PostgreSQL (SQLite serialises writers), so each job runs on one
 * worker at a time, and a job whose worker died is picked up again when its
 * lease runs out. A handler runs in a transaction that also marks the job
 * done, so its effects and its completion commit together.
 */
export class JobWorker {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private polling = false;
  private readonly workerId = `${hostname()}:${process.pid}`;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly options: { pollMs: number; concurrency: number; lockMs: number },
  ) {}

  register(kind: string, handler: JobHandler): void {
    if (this.handlers.has(kind)) throw new Error(`a handler for job kind ${kind} is already registered`);
    this.handlers.set(kind, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Polls now instead of at the next tick: called after a commit that enqueued work. */
  wake(): void {
    if (this.running && !this.polling) this.schedule(0);
  }

  /** Stops claiming new jobs and waits for the ones in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (!this.running || this.polling) return;
    this.polling = true;
    let claimed = 0;
    try {
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        const ids = await this.claim(free);
        claimed = ids.length;
        for (const id of ids) this.track(this.execute(id));
      }
    } catch (err) {
      this.log.error({ err }, "job claim failed");
    } finally {
      this.polling = false;
      // A full batch suggests more is waiting: look again at once.
      if (this.running) this.schedule(claimed > 0 && this.inFlight.size < this.options.concurrency ? 0 : this.options.pollMs);
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      this.wake();
    });
  }

  private async claim(limit: number): Promise<string[]> {
    const em = this.orm.em.fork();
    const now = Date.now();
    const lockClause = dialectOf(em.getPlatform()) === "postgresql" ? "for update skip locked" : "";
    const rows = await em.getConnection().execute<ClaimedRow[]>(
      `update jobs set locked_until = ?, attempts = attempts + 1
        where id in (
          select id from jobs
           where status = ? and run_at <= ? and (locked_until is null or locked_until < ?)
           order by run_at, id
           limit ? ${lockClause})
        returning id`,
      [now + this.options.lockMs, JobStatus.PENDING, now, now, limit],
    );
    return rows.map((row: ClaimedRow) => String(row.id));
  }

  private async execute(id: string): Promise<void> {
    const em = this.orm.em.fork();
    const job = await em.findOneOrFail(Job, id);
    const handler = this.handlers.get(job.kind);
    const log = this.log.child({ jobId: id, jobKind: job.kind, attempt: job.attempts });
    try {
      if (!handler) throw new Error(`no handler registered for job kind ${job.kind}`);
      await em.transactional(async (tx) => {
        await handler({ em: tx, job }, job.payload);
        await tx.nativeUpdate(Job, { id }, { status: JobStatus.DONE, lockedUntil: null, lastError: null });
      });
      log.debug("job done");
    } catch (err) {
      await this.recordFailure(job, err, log);
    }
  }

  private async recordFailure(job: Job, err: unknown, log: Logger): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const finalAttempt = job.attempts >= job.maxAttempts;
    // Exponential backoff with full jitter, capped at ten minutes.
    const backoffMs = Math.min(600_000, 1_000 * 2 ** Math.min(job.attempts, 20)) * (0.5 + Math.random() / 2);
    await this.orm.em.fork().nativeUpdate(
      Job,
      { id: job.id },
      {
        status: finalAttempt ? JobStatus.FAILED : JobStatus.PENDING,
        runAt: Date.now() + Math.round(backoffMs),
        lockedUntil: null,
        lastError: message.slice(0, 2_000),
      },
    );
    if (finalAttempt) log.error({ err }, "job failed for good");
    else log.warn({ err: message }, "job failed; will retry");
  }
}
