import type { EventSubscriber } from "@mikro-orm/core";
import type { Em, Orm } from "../db/orm";
import { afterCommitOf } from "../db/commit-hook";
import { ClaimLoop, claimLeases, type ClaimedRow } from "./claim-loop";
import type { Logger } from "../common/logger";
import { systemClock, type Clock } from "../common/clock";
import { Job, JobStatus } from "./job.entity";
import type { JobKind, JobPayloads } from "./job.kinds";
import type { BackgroundWorker, WorkerContext } from "./worker.runtime";
import { tablePruner, type Pruner } from "./retention";

export interface JobContext<P = undefined> {
  em: Em;
  job: Job;
  /** What the job's prepare step computed, outside the transaction. */
  prepared: P;
}

export type JobHandler<P = undefined, K extends JobKind = JobKind> = (ctx: JobContext<P>, payload: JobPayloads[K]) => Promise<void>;

/**
 * Slow work a job needs before it writes (CPU on another thread, a remote
 * call), run outside the job's transaction so no database lock is held
 * meanwhile. It must only read: it may run again if the job is retried.
 * It sees the job, so it can tell its final attempt (attempts >= maxAttempts).
 */
export type JobPrepare<P, K extends JobKind = JobKind> = (em: Em, payload: JobPayloads[K], job: Job) => Promise<P>;

interface Registered {
  handler: JobHandler<unknown>;
  prepare?: JobPrepare<unknown>;
}

export interface EnqueueOptions {
  /** When to run (default now). */
  runAt?: Date | number;
  /** A unique key: a second job with it makes the enqueueing transaction fail, guarding against double scheduling. */
  dedupeKey?: string;
  maxAttempts?: number;
}

/** Adds a job to the caller's unit of work: it exists if and only if the caller's transaction commits. */
export function enqueue<K extends JobKind>(em: Em, kind: K, payload: JobPayloads[K], options: EnqueueOptions = {}): Job {
  const runAt = options.runAt instanceof Date ? options.runAt.getTime() : (options.runAt ?? Date.now());
  const job = new Job(kind, payload, runAt, options.maxAttempts ?? 10, options.dedupeKey);
  em.persist(job);
  return job;
}

/** Jobs that finished (done, or failed for good) more than `ageMs` ago; pending ones are never pruned. */
export function finishedJobs(ageMs: number): Pruner {
  return tablePruner("jobs", `status in ('${JobStatus.DONE}', '${JobStatus.FAILED}') and run_at < ?`, (now) => [now - ageMs]);
}

/**
 * Runs durable jobs. Several workers (in one process or many replicas) share
 * the table through leases (see claimLeases), so each job runs on one worker
 * at a time and a job whose worker died runs again when its lease runs out.
 * A handler runs in a transaction that also marks the job done, so its
 * effects and its completion commit together; an optional prepare step runs
 * before it, outside the transaction. Whether a job is due, and when a failed
 * one runs again, is judged by `clock` (the system clock but in tests of the
 * worker itself; jobs enqueued without a run time are due at the system
 * clock's now).
 */
export class JobWorker implements BackgroundWorker {
  readonly name = "jobs";
  private readonly handlers = new Map<string, Registered>();
  private readonly loop: ClaimLoop<ClaimedRow>;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly options: { pollMs: number; concurrency: number; lockMs: number },
    private readonly clock: Clock = systemClock,
  ) {
    const lease = { table: "jobs", dueColumn: "run_at", pendingStatus: JobStatus.PENDING, leaseMs: options.lockMs };
    const claim = (limit: number) => claimLeases(this.orm.em.fork(), lease, limit, { whole: true, clock });
    this.loop = new ClaimLoop("jobs", log, options, claim, (row) => this.execute(row), clock);
  }

  register<K extends JobKind>(kind: K, handler: JobHandler<undefined, K>): void;
  register<P, K extends JobKind>(kind: K, handler: JobHandler<NoInfer<P>, K>, prepare: JobPrepare<P, K>): void;
  register<P, K extends JobKind>(kind: K, handler: JobHandler<P, K>, prepare?: JobPrepare<P, K>): void {
    if (this.handlers.has(kind)) throw new Error(`a handler for job kind ${kind} is already registered`);
    this.handlers.set(kind, { handler: handler as unknown as JobHandler<unknown>, prepare: prepare as unknown as JobPrepare<unknown> | undefined });
  }

  /**
   * Starts claiming jobs. Its claim loop beats each poll: one that has not
   * polled within a poll interval plus WORKER_LOCK_MS is stuck.
   */
  start(context?: WorkerContext): void {
    this.loop.start(context?.loop("claim", this.options.pollMs + this.options.lockMs));
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  /** Polls now instead of at the next tick: called after a commit that enqueued work. */
  wake(): void {
    this.loop.wake();
  }

  /**
   * A MikroORM subscriber that tells the worker, once a transaction of this
   * process that enqueued jobs commits, when the earliest of them is due: run
   * then, not at the next poll.
   */
  commitHook(): EventSubscriber<Job> {
    return afterCommitOf(Job, (job) => job.runAt, (times) => {
      for (const at of new Set(times)) this.loop.dueAt(at);
    });
  }

  /** Stops claiming new jobs and waits for the ones in flight to finish. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Runs a claimed job; the claim returned its row, so it is not read again. */
  private async execute(claimed: ClaimedRow): Promise<void> {
    const em = this.orm.em.fork();
    const id = claimed.id;
    const job = em.map(Job, claimed.columns!);
    const registered = this.handlers.get(job.kind);
    const log = this.log.child({ jobId: id, jobKind: job.kind, attempt: job.attempts });
    try {
      if (!registered) throw new Error(`no handler registered for job kind ${job.kind}`);
      const payload = job.payload as JobPayloads[JobKind];
      const prepared = await registered.prepare?.(this.orm.em.fork(), payload, job);
      await em.transactional(async (tx) => {
        await registered.handler({ em: tx, job, prepared }, payload);
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
    const runAt = this.clock.now() + Math.round(backoffMs);
    await this.orm.em.fork().nativeUpdate(
      Job,
      { id: job.id },
      {
        status: finalAttempt ? JobStatus.FAILED : JobStatus.PENDING,
        runAt,
        lockedUntil: null,
        lastError: message.slice(0, 2_000),
      },
    );
    if (!finalAttempt) this.loop.dueAt(runAt);
    if (finalAttempt) log.error({ err }, "job failed for good");
    else log.warn({ err: message }, "job failed; will retry");
  }
}
