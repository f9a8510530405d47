import type { Em } from "../db/orm";
import type { Task } from "./task.entity";
import { TaskEvent } from "./task-event.entity";
import { ActorType, TaskEventKind, TaskStatus } from "./task.enums";
import { assertTransition } from "./task.state-machine";

export interface Actor {
  type: ActorType;
  id?: string;
}

export const SYSTEM: Actor = { type: ActorType.SYSTEM };
export const GUARDIAN: Actor = { type: ActorType.GUARDIAN };

/**
 * Moves a task to `to` and writes its TaskEvent into the same unit of work.
 * The task's version column turns the flush into a compare-and-set, so a
 * concurrent transition of the same task fails instead of both winning.
 */
export function transition(em: Em, task: Task, to: TaskStatus, actor: Actor, reason?: string): TaskEvent {
  assertTransition(task.status, to);
  const event = new TaskEvent(task, task.status, to, actor, reason);
  task.status = to;
  em.persist(event);
  return event;
}

/** The event that records a task's creation (no previous status). */
export function created(em: Em, task: Task, actor: Actor): TaskEvent {
  const event = new TaskEvent(task, undefined, TaskStatus.POSTED, actor);
  em.persist(event);
  return event;
}

/** The event that records a tip reaching the operator on chain: no status change; both sides' live views learn the tip is paid. */
export function tipPaid(em: Em, task: Task, amount: string, txHash: string): TaskEvent {
  const event = new TaskEvent(task, task.status, task.status, SYSTEM, `the ${amount} USDC tip reached the operator on chain in transaction ${txHash}`, TaskEventKind.TIP_PAID);
  em.persist(event);
  return event;
}

/** The event that records a POSTED task's escrow being funded on chain: no status change, but from now on operators may take it. */
export function escrowFunded(em: Em, task: Task, txHash: string): TaskEvent {
  const event = new TaskEvent(task, task.status, task.status, SYSTEM, `reward and fee locked in escrow on chain in transaction ${txHash}`, TaskEventKind.ESCROW_FUNDED);
  em.persist(event);
  return event;
}
