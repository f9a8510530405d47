import type { Em } from "../db/orm";
import type { Mode } from "../common/mode";
import type { Task } from "../tasks/task.entity";
import { LedgerEntry, LedgerKind } from "./ledger-entry.entity";

export const Accounts = {
  agent: (agentId: string) => `agent:${agentId}`,
  escrow: (taskId: string) => `escrow:${taskId}`,
  operator: (operatorId: string) => `operator:${operatorId}`,
  treasury: "platform:treasury",
  testFaucet: "external:test-faucet",
  deposits: "external:deposits",
  /** USDC that reached a deposit address from no linked wallet: held by the platform, owed to nobody known yet. */
  unattributed: "platform:unattributed",
} as const;

/**
 * The books. Postings are added to the caller's unit of work, so they commit
 * or roll back with the state change that caused them.
 */
export class LedgerService {
  post(em: Em, mode: Mode, kind: LedgerKind, from: string, to: string, amount: bigint, task?: Task): void {
    if (amount < 0n) throw new Error(`ledger amounts are non-negative (got ${amount})`);
    if (amount === 0n) return;
    em.persist(new LedgerEntry(mode, kind, from, to, amount, task));
  }

  /** Locks reward + fee for a task: agent → escrow. The caller has checked the balance. */
  fundEscrow(em: Em, task: Task): void {
    this.post(em, task.mode, LedgerKind.ESCROW_FUND, Accounts.agent(task.agent.id), Accounts.escrow(task.id), task.totalUnits, task);
  }

  /** Pays out a verified task: escrow → operator (reward) and escrow → treasury (fee). */
  settle(em: Em, task: Task, operatorId: string): void {
    const escrow = Accounts.escrow(task.id);
    this.post(em, task.mode, LedgerKind.PAYOUT, escrow, Accounts.operator(operatorId), task.rewardUnits, task);
    this.post(em, task.mode, LedgerKind.FEE, escrow, Accounts.treasury, task.feeUnits, task);
  }

  /** Returns everything in a task's escrow to the agent. */
  refund(em: Em, task: Task): void {
    this.post(em, task.mode, LedgerKind.REFUND, Accounts.escrow(task.id), Accounts.agent(task.agent.id), task.totalUnits, task);
  }

  /** Balance of an account: what flowed in minus what flowed out, read from committed rows. */
  async balance(em: Em, mode: Mode, account: string): Promise<bigint> {
    const [row] = await em.getConnection().execute<{ incoming: string | number | null; outgoing: string | number | null }[]>(
      `select
         (select coalesce(sum(amount), 0) from ledger_entries where mode = ? and to_account = ?) as incoming,
         (select coalesce(sum(amount), 0) from ledger_entries where mode = ? and from_account = ?) as outgoing`,
      [mode, account, mode, account],
      "all",
      em.getTransactionContext(),
    );
    return BigInt(row.incoming ?? 0) - BigInt(row.outgoing ?? 0);
  }

  /** Postings touching an account, newest first; `beforeId` continues a page. */
  async entries(em: Em, mode: Mode, account: string, limit: number, beforeId?: string): Promise<LedgerEntry[]> {
    return em.find(
      LedgerEntry,
      { mode, $or: [{ fromAccount: account }, { toAccount: account }], ...(beforeId ? { id: { $lt: beforeId } } : {}) },
      { orderBy: { id: "desc" }, limit },
    );
  }
}
