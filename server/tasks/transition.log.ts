import type { EventArgs, EventSubscriber, TransactionEventArgs } from "@mikro-orm/core";
import type { Logger } from "../common/logger";
import { TaskEvent } from "./task-event.entity";
import { TaskEventKind } from "./task.enums";
import { rootTransaction } from "../db/dialect";

/**
 * Logs every task status transition at info, once the transaction that
 * wrote its TaskEvent has committed (a transition that lost a race and
 * rolled back is not logged). It logs ids and statuses only: no reasons
 * (agents and operators write them) and no actor ids.
 */
export class TransitionLog implements EventSubscriber<TaskEvent> {
  private readonly pending = new WeakMap<object, TaskEvent[]>();

  constructor(private readonly log: Logger) {}

  getSubscribedEntities() {
    return [TaskEvent];
  }

  afterCreate({ entity, em }: EventArgs<TaskEvent>): void {
    if (entity.kind !== TaskEventKind.STATUS_CHANGED) return;
    const transaction = rootTransaction(em.getTransactionContext());
    if (!transaction) return this.write(entity);
    const events = this.pending.get(transaction) ?? [];
    events.push(entity);
    this.pending.set(transaction, events);
  }

  afterTransactionCommit({ transaction }: TransactionEventArgs): void {
    if (!transaction) return;
    for (const event of this.pending.get(transaction) ?? []) this.write(event);
    this.pending.delete(transaction);
  }

  afterTransactionRollback({ transaction }: TransactionEventArgs): void {
    if (transaction) this.pending.delete(transaction);
  }

  private write(event: TaskEvent): void {
    this.log.info({ taskId: event.task.id, eventId: event.id, from: event.fromStatus ?? null, to: event.toStatus, actor: event.actorType }, "task status changed");
  }
}
