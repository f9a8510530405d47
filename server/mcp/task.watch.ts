import { setTimeout as sleep } from "node:timers/promises";
import { TaskStatus } from "../tasks/task.enums";
import { isTerminal } from "../tasks/task.state-machine";
import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { getTask } from "./task.operations";
import type { TaskView } from "./task.view";

const PULSE = `query McpTaskPulse($id: ID!) { task(id: $id) { status updatedAt } }`;

/** The cheap part of a task that tells whether it changed. */
export interface TaskPulse {
  status: TaskStatus;
  updatedAt: string;
}

/**
 * Poll pacing. There is no push channel to the stdio server (it only has the
 * HTTP API), so watching is polling: quick right after a change, when the
 * next step often follows, then backing off while nothing happens.
 */
export const POLL_MS = { first: 100, max: 5_000, growth: 1.5 } as const;

export function nextDelay(previousMs: number, changed: boolean): number {
  return changed ? POLL_MS.first : Math.min(Math.ceil(previousMs * POLL_MS.growth), POLL_MS.max);
}

export async function pulse(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskPulse> {
  const { task } = await run<{ task: TaskPulse }>(backend, PULSE, { id: taskId }, signal);
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
}

/**
 * Blocks until the task reaches what the caller waits for, until it can only
 * move by the caller's own action (final, or in manual review), or until the
 * timeout passes; then returns the task as it is.
 */
export async function waitForTask(backend: GraphQLBackend, request: WaitRequest, hooks: WaitHooks = {}): Promise<WaitOutcome> {
  const started = Date.now();
  let current = await pulse(backend, request.taskId, hooks.signal);
  const baseline = request.knownStatus ?? current.status;
  const reached = (status: TaskStatus) => (request.until ? request.until.includes(status) : status !== baseline);
  let delay: number = POLL_MS.first;
  await hooks.onPoll?.(current.status, 0);
  while (!reached(current.status) && !waitsOnAgent(current.status)) {
    const left = started + request.timeoutMs - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(delay, left), undefined, { signal: hooks.signal });
    const previous = current;
    current = await pulse(backend, request.taskId, hooks.signal);
    delay = nextDelay(delay, current.updatedAt !== previous.updatedAt);
    await hooks.onPoll?.(current.status, Date.now() - started);
  }
  const task = await getTask(backend, request.taskId, hooks.signal);
  const done = reached(task.status);
  return { task, reached: done, timedOut: !done && !waitsOnAgent(task.status), waitedMs: Date.now() - started };
}
