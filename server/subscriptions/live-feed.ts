import type { Mode } from "../common/mode";
import { DomainError } from "../common/errors";
import { TaskStatus } from "../tasks/task.enums";
import type { LiveTaskEvent } from "./live-event";

/** Where an event is published: its task, its agent, and for new tasks the open market of its mode. */
export const Topics = {
  task: (taskId: string) => `task:${taskId}`,
  agent: (agentId: string) => `agent:${agentId}`,
  open: (mode: Mode) => `open:${mode}`,
};

function topicsOf(event: LiveTaskEvent): string[] {
  const topics = [Topics.task(event.taskId), Topics.agent(event.agentId)];
  if (event.toStatus === TaskStatus.POSTED) topics.push(Topics.open(event.mode));
  return topics;
}

/** Ends a subscriber that stopped reading; it is a client-facing error, so the subscriber learns how to resume. */
export class SubscriberFellBehindError extends DomainError {
  constructor(limit: number) {
    super("LIMIT_EXCEEDED", `this subscription fell more than ${limit} events behind and was ended; subscribe again with afterEventId set to the last eventId you received`);
  }
}

/**
 * One subscriber's queue: events it accepts wait here until it pulls them.
 * It is bounded, so a consumer that stops reading costs a fixed amount of
 * memory and is then ended (it can resume from its last event id) instead
 * of slowing everyone else.
 */
export class LiveQueue {
  private readonly buffer: LiveTaskEvent[] = [];
  private waiter?: { resolve(event: LiveTaskEvent): void; reject(err: Error): void };
  private failure?: Error;

  constructor(
    readonly accepts: (event: LiveTaskEvent) => boolean,
    private readonly limit: number,
    private readonly onClose: (queue: LiveQueue) => void,
  ) {}

  push(event: LiveTaskEvent): void {
    if (this.failure || !this.accepts(event)) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(event);
    } else if (this.buffer.length < this.limit) {
      this.buffer.push(event);
    } else {
      this.close(new SubscriberFellBehindError(this.limit));
    }
  }

  next(): Promise<LiveTaskEvent> {
    const event = this.buffer.shift();
    if (event) return Promise.resolve(event);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Stops delivery; a pending or later `next()` rejects with `reason` (after the events already queued). */
  close(reason: Error = new Error("the subscription was closed")): void {
    if (this.failure) return;
    this.failure = reason;
    this.onClose(this);
    this.waiter?.reject(reason);
    this.waiter = undefined;
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
  private position = "0";

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
    const queue = new LiveQueue(accepts, this.maxQueuedEvents, (closed) => {
      const queues = this.listeners.get(topic);
      queues?.delete(closed);
      if (queues?.size === 0) this.listeners.delete(topic);
    });
    let queues = this.listeners.get(topic);
    if (!queues) this.listeners.set(topic, (queues = new Set()));
    queues.add(queue);
    return queue;
  }
}
