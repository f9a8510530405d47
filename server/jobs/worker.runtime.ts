import type { Logger } from "../common/logger";

/** What a loop calls each time it goes round: proof that it is not stuck. */
export interface Heartbeat {
  beat(): void;
}

/** A heartbeat nobody watches (a worker started outside a runtime, e.g. by a test). */
export const UNWATCHED: Heartbeat = { beat: () => undefined };

/** Handed to a worker as it starts: each of its loops gets a heartbeat the runtime watches. */
export interface WorkerContext {
  /**
   * A loop of this worker (`name` is shown under the worker's, e.g.
   * `escrow/indexer:test-31337`). It must beat at least once every `leaseMs`
   * while the worker runs, or readiness fails naming it.
   */
  loop(name: string, leaseMs: number): Heartbeat;
}

/**
 * A piece of background work run by the process: the job queue, the
 * webhook sender, the chain outbox, the event relay, retention, ...
 * Registered with the WorkerRuntime in dependency order (a worker after the
 * ones it relies on): started in that order, stopped in the reverse.
 */
export interface BackgroundWorker {
  readonly name: string;
  start(context: WorkerContext): Promise<void> | void;
  /** Takes no new work and waits for what is in flight. */
  stop(): Promise<void>;
  /** False once the worker ended by itself (its loop died); checked by readiness. */
  readonly isRunning?: boolean;
}

type State = "registered" | "starting" | "running" | "stopping" | "stopped" | "failed";

interface Loop {
  name: string;
  leaseMs: number;
  lastBeatAt: number;
}

interface Entry {
  worker: BackgroundWorker;
  state: State;
  error?: string;
  loops: Loop[];
}

export interface RuntimeHealth {
  ok: boolean;
  /** Each worker and loop by name: "running", or what is wrong with it. */
  workers: Record<string, string>;
}

/**
 * The one runtime every background worker of a process registers with. It
 * starts them in registration order, stops them in the reverse order (so a
 * worker stops before the ones it relies on), and tells readiness which of
 * them died or whose loop has not gone round within its lease.
 */
export class WorkerRuntime {
  private readonly entries: Entry[] = [];
  /** Started workers, in the order they started (stopped in reverse). */
  private readonly started: Entry[] = [];

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  register(worker: BackgroundWorker): void {
    if (this.entries.some((entry) => entry.worker.name === worker.name)) throw new Error(`a background worker named ${worker.name} is already registered`);
    this.entries.push({ worker, state: "registered", loops: [] });
  }

  /**
   * Starts every registered worker not started yet, in registration order.
   * If one fails to start, the ones this call started are stopped again and
   * the error is thrown.
   */
  async start(): Promise<void> {
    const fresh = this.entries.filter((entry) => entry.state === "registered");
    const startedNow: Entry[] = [];
    for (const entry of fresh) {
      entry.state = "starting";
      try {
        await entry.worker.start(this.contextOf(entry));
        entry.state = "running";
        this.started.push(entry);
        startedNow.push(entry);
      } catch (err) {
        entry.state = "failed";
        entry.error = err instanceof Error ? err.message : String(err);
        for (const done of startedNow.reverse()) await this.stopOne(done);
        throw err;
      }
    }
  }

  /** Stops every started worker, last started first; a worker that fails to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    while (this.started.length) await this.stopOne(this.started.pop()!);
  }

  health(): RuntimeHealth {
    const now = this.now();
    const workers: Record<string, string> = {};
    for (const entry of this.entries) {
      const name = entry.worker.name;
      if (entry.state !== "running") {
        workers[name] = entry.state === "failed" ? `failed: ${entry.error}` : entry.state === "registered" ? "not started" : entry.state;
        continue;
      }
      if (entry.worker.isRunning === false) {
        workers[name] = "stopped by itself";
        continue;
      }
      workers[name] = "running";
      for (const loop of entry.loops) {
        const silentMs = now - loop.lastBeatAt;
        workers[`${name}/${loop.name}`] = silentMs > loop.leaseMs ? `stuck: no progress for ${silentMs} ms (lease ${loop.leaseMs} ms)` : "running";
      }
    }
    return { ok: Object.values(workers).every((state) => state === "running"), workers };
  }

  private contextOf(entry: Entry): WorkerContext {
    return {
      loop: (name, leaseMs) => {
        // A restarted worker asks again for its loops: the same name keeps one entry.
        let loop = entry.loops.find((known) => known.name === name);
        if (!loop) entry.loops.push((loop = { name, leaseMs, lastBeatAt: this.now() }));
        loop.leaseMs = leaseMs;
        loop.lastBeatAt = this.now();
        const watched = loop;
        return { beat: () => void (watched.lastBeatAt = this.now()) };
      },
    };
  }

  private async stopOne(entry: Entry): Promise<void> {
    entry.state = "stopping";
    try {
      await entry.worker.stop();
      entry.state = "stopped";
    } catch (err) {
      entry.state = "failed";
      entry.error = err instanceof Error ? err.message : String(err);
      this.log.error({ err, worker: entry.worker.name }, "a background worker failed to stop");
    }
  }
}

/**
 * Runs `work` every `intervalMs`, one run at a time: the schedule of a
 * periodic background step (indexing, reconciliation, retention, a
 * heartbeat). A failed run is logged and tried again at the next tick. Its
 * heartbeat beats as each run starts and ends, so a run stuck for longer
 * than the loop's lease shows in readiness.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private run?: Promise<void>;
  private running = false;
  private heartbeat: Heartbeat = UNWATCHED;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** The longest a healthy loop goes without a beat: an interval plus `runMs` for one run. */
  leaseMs(runMs: number): number {
    return this.intervalMs + runMs;
  }

  /** Starts the schedule; the first run is at once when `now`, else after one interval. */
  start(heartbeat: Heartbeat = this.heartbeat, now = false): void {
    if (this.running) return;
    this.heartbeat = heartbeat;
    this.running = true;
    this.heartbeat.beat();
    this.schedule(now ? 0 : this.intervalMs);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.run;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.running || this.run) return;
      this.heartbeat.beat();
      this.run = this.work()
        .catch((err: unknown) => this.log.error({ err }, `${this.what} failed; retrying at the next tick`))
        .finally(() => {
          this.run = undefined;
          this.heartbeat.beat();
          if (this.running) this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
