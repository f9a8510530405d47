import type { Em } from "../db/orm";
import { dialectOf } from "../db/dialect";
import type { Logger } from "../common/logger";
import { systemClock, type Clock } from "../common/clock";
import { UNWATCHED, type Heartbeat } from "./worker.runtime";

export interface LeaseSpec {
  /** Table whose rows are units of work, with `id`, `status`, `attempts` and `locked_until` columns. */
  table: string;
  /** Integer epoch-millisecond column saying when a row is due. */
  dueColumn: string;
  /** The status of rows waiting to run. */
  pendingStatus: string;
  leaseMs: number;
}

export interface ClaimedRow {
  id: string;
  /** The attempt this claim starts (1 for the first). */
  attempt: number;
  /** With `whole`: every column of the row as the claim left it (as the driver returns it), so the caller need not read it again. */
  columns?: Record<string, unknown>;
}

/**
 * Claims up to `limit` due rows by giving them a lease (`locked_until`) and
 * counting the attempt. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets replicas
 * claim side by side; SQLite serialises writers. A row whose worker died is
 * claimed again when its lease runs out. The SQL is the same on both.
 * With `whole`, each claimed row comes back with all its columns. What is due
 * is judged by `clock`, the clock the rows' due times were written by; a
 * lease guards work in flight, so it is real time (a test's clock jumping a
 * day ahead must not free rows that are being worked on).
 */
export async function claimLeases(em: Em, spec: LeaseSpec, limit: number, options: { whole?: boolean; clock?: Clock } = {}): Promise<ClaimedRow[]> {
  const { whole = false, clock = systemClock } = options;
  const now = clock.now();
  const wall = systemClock.now();
  const lockClause = dialectOf(em.getPlatform()) === "postgresql" ? "for update skip locked" : "";
  const rows = await em.getConnection().execute<Array<{ id: string | number; attempts: string | number } & Record<string, unknown>>>(
    `update ${spec.table} set locked_until = ?, attempts = attempts + 1
      where id in (
        select id from ${spec.table}
         where status = ? and ${spec.dueColumn} <= ? and (locked_until is null or locked_until < ?)
         order by ${spec.dueColumn}, id
         limit ? ${lockClause})
      returning ${whole ? "*" : "id, attempts"}`,
    [wall + spec.leaseMs, spec.pendingStatus, now, wall, limit],
  );
  return rows.map((row) => ({ id: String(row.id), attempt: Number(row.attempts), ...(whole && { columns: row }) }));
}

/** How far ahead a loop keeps wake-ups for work it was told of (later work is found by polling). */
const DUE_HORIZON_MS = 60_000;

/**
 * Claims work and runs up to `concurrency` items at once: polls every
 * `pollMs`, at once when woken (after a commit that added work) or when a
 * full batch suggests more is waiting, and when work it was told of falls
 * due (`dueAt`). `stop()` claims nothing more and waits for what is in flight.
 * When work falls due is judged by `clock` (a test's clock may stand still or
 * jump ahead); the wait until then is a timer of real time, and a wait that
 * ends before the clock reaches the work waits again.
 */
export class ClaimLoop<T> {
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private polling = false;
  private again = false;
  /**
   * More work may be due than the last claim took (it filled every free
   * slot, or a wake came while none was free): a finished item claims again.
   * Otherwise a finished item claims nothing (work added since woke the loop).
   */
  private backlog = false;
  /** When work this process knows of falls due (sooner than the next poll). */
  private dues: number[] = [];
  private heartbeat: Heartbeat = UNWATCHED;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
    private readonly options: { pollMs: number; concurrency: number },
    private readonly claim: (limit: number) => Promise<T[]>,
    private readonly run: (item: T) => Promise<void>,
    private readonly clock: Clock = systemClock,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts polling; each poll beats `heartbeat` (kept from an earlier start when none is given). */
  start(heartbeat: Heartbeat = this.heartbeat): void {
    if (this.running) return;
    this.heartbeat = heartbeat;
    this.running = true;
    this.heartbeat.beat();
    this.schedule(0);
  }

  wake(): void {
    if (!this.running) return;
    // No free slot: the next item to finish claims.
    if (this.inFlight.size >= this.options.concurrency) {
      this.backlog = true;
      return;
    }
    // Woken during a poll: the poll may have looked before the work committed, so another follows at once.
    if (this.polling) this.again = true;
    else this.schedule(0);
  }

  /** Work falls due at `at` (epoch ms): claimed then rather than at the next poll. */
  dueAt(at: number): void {
    const now = this.clock.now();
    if (at <= now) return this.wake();
    // Work due beyond the horizon is found by a poll in time; what is kept stays small.
    if (at - now > DUE_HORIZON_MS) return;
    this.dues.push(at);
    if (this.running && !this.polling) this.schedule(this.sleepMs());
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private sleepMs(): number {
    const now = this.clock.now();
    return Math.max(0, this.dues.reduce((soonest, at) => Math.min(soonest, at - now), this.options.pollMs));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (!this.running || this.polling) return;
    this.polling = true;
    // Work due by now is this poll's to claim; later work keeps its wake-up.
    const now = this.clock.now();
    this.dues = this.dues.filter((at) => at > now);
    // A claim that fills every free slot may have left work behind: claimed again at once, or when a slot frees.
    let full = false;
    try {
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        this.backlog = false;
        const items = await this.claim(free);
        full = items.length === free;
        for (const item of items) this.track(this.run(item));
      }
    } catch (err) {
      this.log.error({ err }, `claiming ${this.what} failed`);
    } finally {
      this.polling = false;
      this.heartbeat.beat();
      const again = this.again || full;
      this.again = false;
      if (again && this.inFlight.size >= this.options.concurrency) this.backlog = true;
      if (this.running) this.schedule(again && this.inFlight.size < this.options.concurrency ? 0 : this.sleepMs());
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      if (this.backlog) this.wake();
    });
  }
}
