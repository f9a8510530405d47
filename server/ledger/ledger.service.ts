import type { Em } from "../db/orm";
import { systemClock, type Clock } from "../common/clock";
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
  /** Wallets outside that paid for tasks over x402 (server/x402), and where their refunds leave to. */
  x402: "external:x402",
  /** A refund owed to the wallet that paid with x402 `exact`, held by the funding wallet until it is sent back. */
  payer: (address: string) => `payer:${address.toLowerCase()}`,
} as const;

/** Sends a refunded x402 `exact` payment back to its wallet (server/escrow: a PAYBACK in the chain outbox). */
export interface Paybacks {
  payBack(em: Em, task: Task): void;
}

/**
 * The books. Postings are added to the caller's unit of work, so they commit
 * or roll back with the state change that caused them.
 */
export class LedgerService {
  /** Set when the escrow side is wired (services.ts). */
  paybacks?: Paybacks;

  /** `clock` stamps each posting: the daily spend cap (server/agents/spend-caps.ts) counts postings by when they were made. */
  constructor(private readonly clock: Clock = systemClock) {}

  post(em: Em, mode: Mode, kind: LedgerKind, from: string, to: string, amount: bigint, task?: Task): void {
    if (amount < 0n) throw new Error(`ledger amounts are non-negative (got ${amount})`);
    if (amount === 0n) return;
    em.persist(new LedgerEntry(mode, kind, from, to, amount, task, new Date(this.clock.now())));
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

  /** Locks reward + fee for a task paid with x402 from the agent's own wallet: the payment → escrow. */
  fundEscrowFromPayment(em: Em, task: Task): void {
    this.post(em, task.mode, LedgerKind.ESCROW_FUND, Accounts.x402, Accounts.escrow(task.id), task.totalUnits, task);
  }

  /**
   * Returns everything in a task's escrow to whoever paid: the agent's
   * balance, or the wallet that paid with x402. TaskEscrow refunds a wallet
   * that funded it itself (scheme "escrow"); one that paid the funding wallet
   * (scheme "exact") is owed the money until the funding wallet sends it back.
   */
  refund(em: Em, task: Task): void {
    const escrow = Accounts.escrow(task.id);
    if (!task.paidBy) {
      this.post(em, task.mode, LedgerKind.REFUND, escrow, Accounts.agent(task.agent.id), task.totalUnits, task);
    } else if (task.paymentScheme === "escrow") {
      this.post(em, task.mode, LedgerKind.REFUND, escrow, Accounts.x402, task.totalUnits, task);
    } else {
      this.post(em, task.mode, LedgerKind.REFUND, escrow, Accounts.payer(task.paidBy), task.totalUnits, task);
      if (!this.paybacks) throw new Error("x402 refunds need the escrow's paybacks wired");
      this.paybacks.payBack(em, task);
    }
  }

  /** The funding wallet sent a refunded x402 payment back to the wallet that paid it. */
  paidBack(em: Em, task: Task, address: string, amount: bigint): void {
    this.post(em, task.mode, LedgerKind.REFUND, Accounts.payer(address), Accounts.x402, amount, task);
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
