import type { FilterQuery } from "@mikro-orm/core";
import { ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import type { TaskEvent } from "../tasks/task-event.entity";
import { compareEventIds, readEvents, type LiveTaskEvent } from "../tasks/task-event.log";
import type { LiveFeed, LiveQueue, QueueReader } from "../events/live-feed";
import { iteratorOf, type Sink, type Takeable } from "../common/sink";
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

/**
 * The updates of one subscription: first, when `afterEventId` is given, the
 * matching events after it from the log, then live ones. Listening starts
 * (in the constructor) before the live feed's watermark is read, so every
 * event is either at or below the watermark (replayed from the database) or
 * above it (queued live): none is missed and none comes twice.
 *
 * A Takeable stream rather than an async iterator (transport-ws.ts takes
 * from it; graphql-js's `subscribe` gets an iterator over it): the stream
 * itself is its queue's reader, so a live event goes from the feed's wake
 * to the consumer's sink by two method calls, with no promise, closure or
 * iterator result per subscriber. `return()` ends it at once: a closed
 * connection stops listening without waiting for another event.
 */
export class TaskUpdateStream implements Takeable<TaskUpdate>, AsyncIterable<TaskUpdate>, QueueReader {
  private readonly queue: LiveQueue;
  private readonly nextUpdate: () => void;
  private replaying?: AsyncGenerator<LiveTaskEvent>;
  private sink?: Sink<TaskUpdate>;
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

  /** The next update into `sink`: a live one straight from the queue, or (while resuming) the next replayed or past afterEventId. */
  take(sink: Sink<TaskUpdate>): void {
    if (this.done) return sink.complete();
    this.sink = sink;
    if (this.replaying || this.afterEventId !== undefined) this.nextEvent().then((event) => this.next(event), (err: unknown) => this.error(err));
    else this.queue.take(this);
  }

  /** The queue's (or the replay's) event, as the update it is. */
  next(event: LiveTaskEvent): void {
    const sink = this.sink!;
    this.sink = undefined;
    if (this.done) return sink.complete();
    this.nextUpdate();
    sink.next(TaskUpdate.of(event));
  }

  /** The queue was closed (the subscriber fell behind, or the stream was returned), or the replay failed. */
  error(err: unknown): void {
    const sink = this.sink!;
    this.sink = undefined;
    if (this.done) return sink.complete();
    this.close();
    sink.error(err);
  }

  async return(): Promise<void> {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<TaskUpdate> {
    return iteratorOf(this);
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
        // Live events come in id order: every one after this is past afterEventId too, so the queue may hand them over directly.
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
