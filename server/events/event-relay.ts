import type { EventSubscriber } from "@mikro-orm/core";
import type { Em, Orm } from "../db/orm";
import { dialectOf } from "../db/dialect";
import { afterCommitOf } from "../db/commit-hook";
import type { Logger } from "../common/logger";
import type { LiveFeed } from "./live-feed";
import type { ClusterBus } from "./cluster-bus";
import { compareEventIds, readEvents, type LiveTaskEvent } from "../tasks/task-event.log";
import { TaskEvent } from "../tasks/task-event.entity";
import { UNWATCHED, type Heartbeat } from "../jobs/worker.runtime";

const BATCH = 500;
/** While an id is missing the log is re-read this often, so the hold ends soon after the transaction does. */
const GAP_RECHECK_MS = 20;
/**
 * A PostgreSQL transaction takes its sequence value a moment before it is
 * given a transaction id; holding at least this long keeps such a
 * transaction from slipping past the snapshot check below.
 */
const GAP_MIN_HOLD_MS = 40;
/** How long one read of the log may take before the relay counts as stuck (on top of a poll interval). */
const READ_LEASE_MS = 30_000;

interface HeldGap {
  /** The cursor the gap follows. */
  after: string;
  firstSeenAt: number;
  /** PostgreSQL: every transaction that could still commit the missing id has a transaction id below this. */
  horizon?: string;
}

/** A move of the relay's position: every committed event after `from` up to `to`, in id order (ids rolled back are missing). */
export interface RelayAdvance {
  from: string;
  to: string;
  events: LiveTaskEvent[];
}

export interface RelayOptions {
  pollMs: number;
  gapMaxHoldMs: number;
}

/**
 * Publishes the durable task event log to this process's subscribers, in id
 * order, with nothing skipped and nothing published before its transaction
 * commits (only committed rows are ever read).
 *
 * Every replica runs its own relay over the shared database, rather than
 * each replica publishing what it committed to the others: a single
 * ordered reader is what makes "resume after event id N" exact, and it
 * needs no leader. A relay reads when this process commits task events (commitHook),
 * when another replica announces that the log advanced (ClusterBus over
 * Redis), and every `pollMs` in case an announcement was lost.
 *
 * Ids are taken from a sequence when a row is inserted, not when its
 * transaction commits, so id 41 can become visible before id 40 does. At
 * such a gap the relay holds: on PostgreSQL until every transaction that
 * was running when the gap was seen has ended (then a still-missing id was
 * rolled back), bounded by `gapMaxHoldMs`; SQLite commits one writer at a
 * time, so its ids become visible in order and a gap there is final.
 */
export class EventRelay {
  private cursor = "0";
  private heard = "0";
  private gap?: HeldGap;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private again = false;
  private running = false;
  private readonly advanceListeners: Array<(advance: RelayAdvance) => void> = [];
  private heartbeat: Heartbeat = UNWATCHED;
  /** A transaction of this process committed task events since the last read: the log has more. */
  private committed = false;

  constructor(
    private readonly orm: Orm,
    private readonly feed: LiveFeed,
    private readonly bus: ClusterBus,
    private readonly options: RelayOptions,
    private readonly log: Logger,
  ) {}

  /** Every event up to this id has been published (or was never committed). */
  get position(): string {
    return this.cursor;
  }

  /** Called after each read that moved the position, with the events it published. */
  onAdvance(listener: (advance: RelayAdvance) => void): void {
    this.advanceListeners.push(listener);
  }

  /**
   * A MikroORM subscriber that wakes the relay after each committed
   * transaction of this process that wrote task events (most write none;
   * one nested in another counts when the outermost commits).
   */
  commitHook(): EventSubscriber<TaskEvent> {
    return afterCommitOf(TaskEvent, () => true, () => {
      this.committed = true;
      this.wake();
    });
  }

  /** The longest a healthy relay goes between reads: a poll interval plus one read. */
  get leaseMs(): number {
    return this.options.pollMs + READ_LEASE_MS;
  }

  /** Starts after `position` (a point every consumer has passed) and catches up before returning; each read beats `heartbeat`. */
  async start(position: string, heartbeat: Heartbeat = UNWATCHED): Promise<void> {
    this.heartbeat = heartbeat;
    this.cursor = position;
    this.heard = position;
    this.feed.startAt(position);
    this.bus.onAnnouncement((announced) => this.hear(announced));
    this.running = true;
    this.wake();
    await this.reading;
  }

  wake(): void {
    if (!this.running) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.reading;
  }

  private hear(position: string): void {
    if (compareEventIds(position, this.heard) > 0) this.heard = position;
    if (compareEventIds(position, this.cursor) > 0) this.wake();
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && this.running);
    } catch (err) {
      this.log.error({ err }, "reading the task event log failed; retrying");
    } finally {
      this.reading = undefined;
      this.heartbeat.beat();
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.gap ? GAP_RECHECK_MS : this.options.pollMs);
    this.timer.unref();
  }

  private async readOnce(): Promise<void> {
    const em = this.orm.em.fork();
    // Checked before reading: a transaction that has ended by now is either in this read or never committed.
    const passGap = this.gap ? await this.gapSettled(em, this.gap) : false;
    // Woken by a poll or an announcement, the log often has nothing new: an indexed max() is far cheaper than the read.
    const committed = this.committed;
    this.committed = false;
    if (!this.gap && !committed && !(await this.logHasMoreThan(em, this.cursor))) return;
    // With whether each agent has a webhook endpoint: the dispatcher, handed these events, need not ask.
    const events = await readEvents(em, { id: { $gt: this.cursor } }, BATCH, true);
    const start = this.cursor;
    const published: LiveTaskEvent[] = [];
    for (const event of events) {
      const next = BigInt(event.id) === BigInt(this.cursor) + 1n;
      if (!next && !(passGap && this.gap?.after === this.cursor)) {
        await this.holdAt(em);
        break;
      }
      this.gap = undefined;
      this.feed.publish(event);
      published.push(event);
      this.cursor = event.id;
    }
    if (this.cursor === start) return;
    for (const listener of this.advanceListeners) listener({ from: start, to: this.cursor, events: published });
    if (compareEventIds(this.cursor, this.heard) > 0) {
      this.heard = this.cursor;
      this.bus.announce(this.cursor);
    }
    if (events.length === BATCH) this.again = true;
  }

  private async logHasMoreThan(em: Em, id: string): Promise<boolean> {
    const [row] = await em.getConnection().execute<Array<{ last: number | string | null }>>("select max(id) as last from task_events");
    return row.last !== null && BigInt(row.last) > BigInt(id);
  }

  private async holdAt(em: Em): Promise<void> {
    if (this.gap?.after === this.cursor) return;
    this.gap = { after: this.cursor, firstSeenAt: Date.now(), horizon: await this.snapshotHorizon(em) };
  }

  private async snapshotHorizon(em: Em): Promise<string | undefined> {
    if (dialectOf(em.getPlatform()) !== "postgresql") return undefined;
    const [row] = await em.getConnection().execute<Array<{ xmax: string }>>("select pg_snapshot_xmax(pg_current_snapshot())::text as xmax");
    return row.xmax;
  }

  private async gapSettled(em: Em, gap: HeldGap): Promise<boolean> {
    const heldMs = Date.now() - gap.firstSeenAt;
    if (gap.horizon === undefined) return true;
    if (heldMs < GAP_MIN_HOLD_MS) return false;
    const [row] = await em
      .getConnection()
      .execute<Array<{ settled: boolean }>>("select pg_snapshot_xmin(pg_current_snapshot()) >= ?::xid8 as settled", [gap.horizon]);
    if (row.settled) return true;
    if (heldMs < this.options.gapMaxHoldMs) return false;
    this.log.warn({ after: gap.after, heldMs }, "a task event id stayed missing past LIVE_GAP_MAX_HOLD_MS; passing over it");
    return true;
  }
}
