import type { EntityClass, EventSubscriber } from "@mikro-orm/core";
import { rootTransaction } from "./dialect";

/**
 * A MikroORM subscriber that collects something from each `entity` row this
 * process creates, and hands what one transaction collected to `committed`
 * once that transaction commits (the outermost one, when it is nested; a
 * flush outside a transaction commits by itself). A rolled-back
 * transaction's values are dropped with it. How a worker hears, without
 * polling, that a commit gave it work: task events for the relay, chain
 * transactions for the outbox, jobs for the queue.
 */
export function afterCommitOf<T extends object, V>(entity: EntityClass<T>, collect: (row: T) => V, committed: (values: V[]) => void): EventSubscriber<T> {
  // A transaction's context, or the EntityManager of a flush outside one: what afterTransactionCommit names again.
  const pending = new WeakMap<object, V[]>();
  return {
    getSubscribedEntities: () => [entity],
    afterCreate: ({ em, entity: row }) => {
      const key = rootTransaction(em.getTransactionContext()) ?? em;
      const values = pending.get(key);
      if (values) values.push(collect(row));
      else pending.set(key, [collect(row)]);
    },
    afterTransactionCommit: ({ em, transaction }) => {
      const key = transaction && pending.has(transaction as object) ? (transaction as object) : pending.has(em) ? em : undefined;
      if (!key) return;
      const values = pending.get(key)!;
      pending.delete(key);
      committed(values);
    },
  };
}
