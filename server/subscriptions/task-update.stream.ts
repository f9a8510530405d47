import type { FilterQuery } from "@mikro-orm/core";
import { ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import type { TaskEvent } from "../tasks/task-event.entity";
import { compareEventIds, readEvents, type LiveTaskEvent } from "../tasks/task-event.log";
import type { LiveFeed, LiveQueue } from "../events/live-feed";
import { TaskUpdate } from "./task-update.type";

const REPLAY_PAGE = 200;

/** What one subscription follows: a topic of the live feed, and the same events as a query on the log for replay. */
export interface FeedSource {
  topic: string;
  accepts(event: LiveTaskEvent): boolean;
  replayWhere: FilterQuery<TaskEvent>;
}

export function parseAfterEventId(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!/^\d{1,19}$/.test(value)) throw new ValidationError("afterEventId", "must be an eventId (a whole number) from an earlier update");
  return BigInt(value).toString();
}

async function* replay(ctx: Context, source: FeedSource, after: string, upTo: string): AsyncGenerator<LiveTaskEvent> {
  let cursor = after;
  while (compareEventIds(cursor, upTo) < 0) {
    const page = await readEvents(ctx.em.fork(), { $and: [source.replayWhere, { id: { $gt: cursor, $lte: upTo } }] }, REPLAY_PAGE);
    for (const event of page) if (source.accepts(event)) yield event;
    if (page.length < REPLAY_PAGE) return;
    cursor = page[page.length - 1].id;
  }
}

/**
 * A subscription outlives its request: each update is resolved with a fresh
 * EntityManager, so nested fields read current rows rather than what the
 * first update loaded. The fork is made when a resolver first asks for it,
 * so updates whose fields need no database (most of a fan-out) cost none.
 */
function forkPerUpdate(ctx: Context): () => void {
  const base = Object.getOwnPropertyDescriptor(ctx, "em");
  const first = () => (base?.get ? base.get.call(ctx) : base?.value) as Context["em"];
  let current: Context["em"] | undefined;
  let stale = false;
  Object.defineProperty(ctx, "em", {
    enumerable: true,
    get() {
      // After an update, a fork of whatever was used before: the subscribe-time one may hold rows as they were then.
      if (stale) current = (current ?? first()).fork();
      else current ??= first();
      stale = false;
      return current;
    },
  });
  return () => {
    stale = true;
  };
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The updates of one subscription: first, when `afterEventId` is given, the
 * matching events after it from the log, then live ones. Listening starts
 * (in the constructor) before the live feed's watermark is read, so every
 * event is either at or below the watermark (replayed from the database) or
 * above it (queued live): none is missed and none comes twice.
 *
 * A hand-written iterator rather than an async generator: a generator
 * waiting for the next event cannot be returned until that event arrives,
 * and a closed connection must stop listening at once.
 */
export class TaskUpdateStream implements AsyncIterableIterator<TaskUpdate> {
  private readonly queue: LiveQueue;
  private readonly nextUpdate: () => void;
  private replaying?: AsyncGenerator<LiveTaskEvent>;
  private done = false;

  constructor(
    ctx: Context,
    live: LiveFeed,
    source: FeedSource,
    private afterEventId?: string,
  ) {
    this.queue = live.listen(source.topic, (event) => source.accepts(event));
    this.nextUpdate = forkPerUpdate(ctx);
    if (afterEventId !== undefined) this.replaying = replay(ctx, source, afterEventId, live.watermark);
  }

  // A promise chain rather than an async function: a subscription spends its life waiting here, and a suspended async frame costs more memory than a reaction.
  next(): Promise<IteratorResult<TaskUpdate>> {
    const event = this.replaying || this.afterEventId !== undefined ? this.nextEvent() : this.queue.next();
    return event.then(
      (event): IteratorResult<TaskUpdate> => {
        if (this.done) return DONE;
        this.nextUpdate();
        return { done: false, value: TaskUpdate.of(event) };
      },
      (err: unknown) => {
        if (this.done) return DONE;
        this.close();
        throw err;
      },
    );
  }

  /**
   * The next update by callback (transport-ws.ts's live path): a live
   * event goes from the feed's wake straight to `next`, with no promise or
   * microtask per subscriber. `done` is called once the stream has ended
   * (returned); while replaying, it is `next()` underneath.
   */
  take(next: (update: TaskUpdate) => void, fail: (err: unknown) => void, done: () => void): void {
    if (this.replaying || this.afterEventId !== undefined) {
      this.next().then((step) => (step.done ? done() : next(step.value)), fail);
      return;
    }
    if (this.done) return done();
    this.queue.take(
      (event) => {
        if (this.done) return done();
        this.nextUpdate();
        next(TaskUpdate.of(event));
      },
      (err) => {
        if (this.done) return done();
        this.close();
        fail(err);
      },
    );
  }

  async return(): Promise<IteratorResult<TaskUpdate>> {
    this.close();
    return DONE;
  }

  async throw(err: unknown): Promise<IteratorResult<TaskUpdate>> {
    this.close();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private async nextEvent(): Promise<LiveTaskEvent> {
    if (this.replaying) {
      const replayed = await this.replaying.next();
      if (!replayed.done) return replayed.value;
      this.replaying = undefined;
    }
    for (;;) {
      const event = await this.queue.next();
      if (this.afterEventId === undefined) return event;
      if (compareEventIds(event.id, this.afterEventId) > 0) {
        // Live events come in id order: every one after this is past afterEventId too, so the live path (take) may serve them.
        this.afterEventId = undefined;
        return event;
      }
    }
  }

  private close(): void {
    this.done = true;
    this.queue.close();
  }
}
