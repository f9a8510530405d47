import { McpTaskPulse } from "../api/documents";
import { isTerminal, MessageAuthor, TaskStatus } from "../api/enums";
import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { getTask } from "./task.operations";
import type { TaskView } from "./task.view";

/** The cheap part of a task that tells whether it changed, or whether someone wrote in its thread. */
export interface TaskPulse {
  status: TaskStatus;
  updatedAt: string;
  lastMessage?: { id: string; author: MessageAuthor } | null;
}

/**
 * Poll pacing: quick right after a change, when the next step often follows,
 * then backing off while nothing happens. Where the backend pushes change
 * notices (HumanOps's taskUpdated subscription) a notice ends the wait at
 * once and polling is only the safety net, so it backs off further.
 */
export const POLL_MS = { first: 100, max: 5_000, maxWithPush: 30_000, growth: 1.5 } as const;

export function nextDelay(previousMs: number, changed: boolean, maxMs: number = POLL_MS.max): number {
  return changed ? POLL_MS.first : Math.min(Math.ceil(previousMs * POLL_MS.growth), maxMs);
}

/**
 * A poll loop's pause between polls of one task, ended early when the
 * backend hears the task change. A notice heard while no pause is running
 * ends the next pause at once, so none is lost between two polls.
 */
export class TaskAlarm {
  private heard = false;
  private wake?: () => void;
  private readonly stop?: () => void;
  /** The longest pause: long when notices come, short when polling is all there is. */
  readonly maxPauseMs: number;

  constructor(backend: GraphQLBackend, taskId: string) {
    this.stop = backend.watchTask?.(taskId, () => {
      this.heard = true;
      this.wake?.();
    });
    this.maxPauseMs = this.stop ? POLL_MS.maxWithPush : POLL_MS.max;
  }

  /** Waits `ms`, or less if a change is heard; rejects with the signal's reason when it aborts. */
  pause(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.heard) {
      this.heard = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
        this.wake = undefined;
      };
      const done = () => {
        settle();
        this.heard = false;
        resolve();
      };
      const aborted = () => {
        settle();
        reject(signal!.reason);
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", aborted, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    this.stop?.();
  }
}

export async function pulse(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskPulse> {
  const { task } = await run(backend, McpTaskPulse, { id: taskId }, signal);
  return task;
}

/** Statuses in which a task waits on nobody but its agent: final, or proof waiting for review_proof. */
function waitsOnAgent(status: TaskStatus): boolean {
  return isTerminal(status) || status === TaskStatus.MANUAL_REVIEW;
}

export interface WaitRequest {
  taskId: string;
  /** Return once the task is in one of these; by default, once it leaves `knownStatus`. */
  until?: readonly TaskStatus[];
  /** The status the caller last saw; by default the status when the wait starts. */
  knownStatus?: TaskStatus;
  timeoutMs: number;
}

export interface WaitHooks {
  signal?: AbortSignal;
  /** After each poll: the status now and how long the wait has lasted. */
  onPoll?(status: TaskStatus, elapsedMs: number): Promise<void>;
}

export interface WaitOutcome {
  task: TaskView;
  reached: boolean;
  timedOut: boolean;
  waitedMs: number;
  /** The operator wrote in the task's thread while the caller waited (the wait ends for it). */
  newMessage: boolean;
}

/** A message the operator wrote since `baseline` (the latest message when the wait began). */
function operatorWrote(pulse: TaskPulse, baseline: string | undefined): boolean {
  return !!pulse.lastMessage && pulse.lastMessage.id !== baseline && pulse.lastMessage.author === MessageAuthor.OPERATOR;
}

/**
 * Blocks until the task reaches what the caller waits for, until it can only
 * move by the caller's own action (final, or in manual review), until the
 * operator writes in its thread, or until the timeout passes; then returns
 * the task as it is.
 */
export async function waitForTask(backend: GraphQLBackend, request: WaitRequest, hooks: WaitHooks = {}): Promise<WaitOutcome> {
  const started = Date.now();
  // Listening before the first poll: a change between the two is not missed.
  const alarm = new TaskAlarm(backend, request.taskId);
  let reached: (status: TaskStatus) => boolean;
  let newMessage = false;
  try {
    let current = await pulse(backend, request.taskId, hooks.signal);
    const baseline = request.knownStatus ?? current.status;
    const lastMessageId = current.lastMessage?.id;
    reached = (status) => (request.until ? request.until.includes(status) : status !== baseline);
    let delay: number = POLL_MS.first;
    await hooks.onPoll?.(current.status, 0);
    while (!reached(current.status) && !waitsOnAgent(current.status)) {
      if ((newMessage = operatorWrote(current, lastMessageId))) break;
      const left = started + request.timeoutMs - Date.now();
      if (left <= 0) break;
      await alarm.pause(Math.min(delay, left), hooks.signal);
      const previous = current;
      current = await pulse(backend, request.taskId, hooks.signal);
      delay = nextDelay(delay, current.updatedAt !== previous.updatedAt, alarm.maxPauseMs);
      await hooks.onPoll?.(current.status, Date.now() - started);
    }
  } finally {
    alarm.close();
  }
  const task = await getTask(backend, request.taskId, hooks.signal);
  const done = reached(task.status);
  return { task, reached: done, timedOut: !done && !newMessage && !waitsOnAgent(task.status), waitedMs: Date.now() - started, newMessage };
}
