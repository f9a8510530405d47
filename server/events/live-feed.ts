import type { Mode } from "../common/mode";
import { DomainError } from "../common/errors";
import type { ObjectQuery } from "@mikro-orm/core";
import { TaskEventKind, TaskStatus } from "../tasks/task.enums";
import type { TaskEvent } from "../tasks/task-event.entity";
import type { LiveTaskEvent } from "../tasks/task-event.log";
import type { Sink } from "../common/sink";

/**
 * Does this event offer its task to operators: its escrow funded on chain, an
 * operator giving it back (ACCEPTED → POSTED), or the agent changing a task
 * that is open and funded (a raised reward, a later deadline, new text:
 * TASK_CHANGED while POSTED)?
 */
export function offersTask(event: Pick<LiveTaskEvent, "kind" | "fromStatus" | "toStatus" | "funded">): boolean {
  if (event.kind === TaskEventKind.ESCROW_FUNDED) return true;
  if (event.kind === TaskEventKind.TASK_CHANGED) return event.toStatus === TaskStatus.POSTED && event.funded;
  return event.fromStatus === TaskStatus.ACCEPTED && event.toStatus === TaskStatus.POSTED;
}

/** The stored events offersTask accepts, for replaying them. */
export const OFFERING_EVENTS: ObjectQuery<TaskEvent> = {
  $or: [
    { kind: TaskEventKind.ESCROW_FUNDED },
    { kind: TaskEventKind.STATUS_CHANGED, fromStatus: TaskStatus.ACCEPTED, toStatus: TaskStatus.POSTED },
    { kind: TaskEventKind.TASK_CHANGED, toStatus: TaskStatus.POSTED, task: { fundedAt: { $ne: null } } },
  ],
};

/** Where an event is published: its task, its agent, and for a task offered to operators (see offersTask) the open market of its mode. */
export const Topics = {
  task: (taskId: string) => `task:${taskId}`,
  agent: (agentId: string) => `agent:${agentId}`,
  open: (mode: Mode) => `open:${mode}`,
};

function topicsOf(event: LiveTaskEvent): string[] {
  const topics = [Topics.task(event.taskId), Topics.agent(event.agentId)];
  if (offersTask(event)) topics.push(Topics.open(event.mode));
  return topics;
}

/** Ends a subscriber that stopped reading; it is a client-facing error, so the subscriber learns how to resume. */
export class SubscriberFellBehindError extends DomainError {
  constructor(limit: number) {
    super("LIMIT_EXCEEDED", `this subscription fell more than ${limit} events behind and was ended; subscribe again with afterEventId set to the last eventId you received`);
  }
}

/** Waiting subscribers woken per turn of the event loop: a fan-out to thousands must not stall every other request. */
const WAKE_SLICE = 256;

/** Who takes a queue's events: a queue is never completed, only closed with a reason (`error`). */
export type QueueReader = Pick<Sink<LiveTaskEvent>, "next"> & { error(err: Error): void };

interface QueueOwner {
  /** The queue has an event for a consumer that is waiting: hand it over soon. */
  ready(queue: LiveQueue): void;
  closed(queue: LiveQueue, topic: string): void;
}

/**
 * One subscriber's queue: events it accepts wait here until it pulls them.
 * It is bounded, so a consumer that stops reading costs a fixed amount of
 * memory and is then ended (it can resume from its last event id) instead
 * of slowing everyone else.
 */
export class LiveQueue {
  private readonly buffer: LiveTaskEvent[] = [];
  // The consumer waiting for the next event: its sink, not a promise, so a live subscription is handed its event by a method call (see take).
  private consumer?: QueueReader;
  private failure?: Error;

  constructor(
    readonly accepts: (event: LiveTaskEvent) => boolean,
    private readonly limit: number,
    // The feed itself and the topic listened to, rather than closures of their own: ten thousand subscribers hold ten thousand queues.
    private readonly owner: QueueOwner,
    private readonly topic: string,
  ) {}

  push(event: LiveTaskEvent): void {
    if (this.failure || !this.accepts(event)) return;
    // A consumer already waiting takes one event off the top of the limit.
    if (this.buffer.length >= this.limit + (this.consumer ? 1 : 0)) return this.close(new SubscriberFellBehindError(this.limit));
    this.buffer.push(event);
    if (this.consumer) this.owner.ready(this);
  }

  /** Gives the oldest queued event to the waiting consumer, if there are both. */
  wake(): void {
    const consumer = this.consumer;
    if (!consumer || this.buffer.length === 0) return;
    this.consumer = undefined;
    try {
      consumer.next(this.buffer.shift()!);
    } catch (err) {
      // A consumer's failure ends its own subscription, not the rest of the fan-out slice.
      this.close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Hands the next event to `reader.next`: at once if one is queued, else
   * when the feed wakes this queue (in a slice of its fan-out).
   * `reader.error` is called instead once the queue is closed and empty.
   * One consumer at a time: call again for the event after.
   */
  take(reader: QueueReader): void {
    const event = this.buffer.shift();
    if (event) return reader.next(event);
    if (this.failure) return reader.error(this.failure);
    this.consumer = reader;
  }

  next(): Promise<LiveTaskEvent> {
    return new Promise((resolve, reject) => this.take({ next: resolve, error: reject }));
  }

  /** Stops delivery; a pending or later `next()` rejects with `reason` (after the events already queued). */
  close(reason: Error = new Error("the subscription was closed")): void {
    if (this.failure) return;
    this.failure = reason;
    this.owner.closed(this, this.topic);
    const consumer = this.consumer;
    this.consumer = undefined;
    consumer?.error(reason);
  }
}

/**
 * This process's fan-out of committed task events to its subscribers. The
 * relay publishes events in id order; `watermark` is the id of the last one,
 * so a subscriber that starts listening and then reads the watermark knows
 * that everything after it will reach its queue, and that everything up to
 * it is in the database to replay.
 */
export class LiveFeed {
  private readonly listeners = new Map<string, Set<LiveQueue>>();
  private readonly waking = new Set<LiveQueue>();
  private wakeScheduled = false;
  private position = "0";

  private readonly owner: QueueOwner = {
    ready: (ready) => this.scheduleWake(ready),
    closed: (closed, topic) => {
      this.waking.delete(closed);
      const queues = this.listeners.get(topic);
      queues?.delete(closed);
      if (queues?.size === 0) this.listeners.delete(topic);
    },
  };

  constructor(private readonly maxQueuedEvents: number) {}

  get watermark(): string {
    return this.position;
  }

  get subscriberCount(): number {
    let count = 0;
    for (const queues of this.listeners.values()) count += queues.size;
    return count;
  }

  /** Sets where publishing starts; the relay calls it once, before the first event. */
  startAt(position: string): void {
    this.position = position;
  }

  publish(event: LiveTaskEvent): void {
    for (const topic of topicsOf(event)) {
      const queues = this.listeners.get(topic);
      if (queues) for (const queue of [...queues]) queue.push(event);
    }
    this.position = event.id;
  }

  listen(topic: string, accepts: (event: LiveTaskEvent) => boolean): LiveQueue {
    const queue = new LiveQueue(accepts, this.maxQueuedEvents, this.owner, topic);
    let queues = this.listeners.get(topic);
    if (!queues) this.listeners.set(topic, (queues = new Set()));
    queues.add(queue);
    return queue;
  }

  /**
   * Consumers are woken WAKE_SLICE at a time, one slice per turn of the
   * event loop, so other work (HTTP requests, commits) runs between slices.
   * Each queue stays first in, first out, so order holds per subscriber.
   */
  private scheduleWake(queue: LiveQueue): void {
    this.waking.add(queue);
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => this.wakeSlice());
  }

  private wakeSlice(): void {
    let woken = 0;
    for (const queue of this.waking) {
      if (woken++ === WAKE_SLICE) break;
      this.waking.delete(queue);
      queue.wake();
    }
    if (this.waking.size > 0) setImmediate(() => this.wakeSlice());
    else this.wakeScheduled = false;
  }
}
