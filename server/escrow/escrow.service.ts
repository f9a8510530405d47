import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { hexlify, randomBytes } from "ethers";
import type { Em } from "../db/orm";
import { ConflictError } from "../common/errors";
import { Mode } from "../common/mode";
import type { Chain, Chains } from "../chain/chains";
import type { Terms } from "../chain/contracts";
import type { Task } from "../tasks/task.entity";
import type { TaskSettlement } from "../tasks/task.service";
import { ChainTx, ChainTxKind, OPEN_TX_STATUSES } from "./chain-tx.entity";
import { Escrow, EscrowStatus } from "./escrow.entity";
import { EscrowViewStatus } from "../api/enums";
import type { Paybacks } from "../ledger/ledger.service";

export { EscrowViewStatus };

/** Intent keys: one funding and one settlement (release xor refund) per task, enforced by a unique index. */
export const Intents = {
  fund: (taskId: string) => `fund:${taskId}`,
  settle: (taskId: string) => `settle:${taskId}`,
  mintForAgent: (chainKey: string, agentId: string) => `mint:${chainKey}:agent:${agentId}`,
  approve: (chainKey: string, funder: string) => `approve:${chainKey}:${funder}`,
  payback: (taskId: string) => `payback:${taskId}`,
  /** One per change of a task's reward or deadline: the row brings the escrow to the task's terms as they are when it is sent. */
  amend: (taskId: string) => `amend:${taskId}:${randomUUID()}`,
  tip: (tipId: string) => `tip:${tipId}`,
} as const;

/** The escrow terms a task's current reward, fee and deadline call for (the funder and grace period never change). */
export function targetTerms(escrow: Escrow, task: Task): Terms {
  return { ...escrow.terms, amount: task.totalUnits, fee: task.feeUnits, deadline: BigInt(Math.ceil(task.deadline.getTime() / 1000)) };
}


export interface EscrowSnapshot {
  status: EscrowViewStatus;
  chain: Chain | undefined;
  escrow: Escrow;
}

/**
 * The escrow side of the task lifecycle. TaskService calls it inside its own
 * transactions, so the outbox row that will move money on chain commits
 * with the state change that calls for it, or not at all. Nothing here
 * talks to the chain: the sender (outbox.sender.ts) does, from the rows.
 */
export class EscrowService implements TaskSettlement, Paybacks {
  private readonly fundings = new EventEmitter();
  /** Tasks whose funding outcome this process committed lately, and when (oldest first). */
  private readonly settledFundings = new Map<string, number>();

  constructor(
    private readonly chains: Chains,
    private readonly gracePeriodSeconds: number,
    private readonly fundingWaitMs: number,
  ) {
    this.fundings.setMaxListeners(0);
  }

  assertAvailable(mode: Mode): void {
    this.chains.require(mode);
  }

  /** Posting: the task's escrow with fresh terms, and its funding transaction queued. */
  open(em: Em, task: Task): void {
    const chain = this.chains.require(task.mode);
    em.persist(new Escrow(task, { chainKey: chain.key, chainId: chain.id, contract: chain.escrow.address }, hexlify(randomBytes(32)), this.termsOf(task, chain.funder.address)));
    em.persist(new ChainTx(chain.key, ChainTxKind.FUND, Intents.fund(task.id), chain.funder.address, { task }));
  }

  /** Posting a task whose payer funded TaskEscrow itself (x402 scheme "escrow"): the escrow is on chain already, with the payer as funder. */
  openFunded(em: Em, task: Task, funding: { chainTaskId: string; funder: string; txHash: string }): void {
    const chain = this.chains.require(task.mode);
    const escrow = new Escrow(task, { chainKey: chain.key, chainId: chain.id, contract: chain.escrow.address }, funding.chainTaskId, this.termsOf(task, funding.funder));
    escrow.status = EscrowStatus.FUNDED;
    escrow.fundTxHash = funding.txHash;
    em.persist(escrow);
  }

  /** VERIFIED: the Guardian pays the operator. */
  release(em: Em, task: Task): void {
    const chain = this.chains.require(task.mode);
    em.persist(new ChainTx(chain.key, ChainTxKind.RELEASE, Intents.settle(task.id), chain.guardian.address, { task }));
  }

  /** CANCELLED / EXPIRED: the Guardian returns the escrow to the funding wallet (or, if it was never funded, nothing moves). */
  refund(em: Em, task: Task): void {
    const chain = this.chains.require(task.mode);
    em.persist(new ChainTx(chain.key, ChainTxKind.REFUND, Intents.settle(task.id), chain.guardian.address, { task }));
  }

  /** A refunded x402 `exact` payment: once the escrow's money is back in the funding wallet, it goes on to the wallet that paid. */
  payBack(em: Em, task: Task): void {
    const chain = this.chains.require(task.mode);
    em.persist(new ChainTx(chain.key, ChainTxKind.PAYBACK, Intents.payback(task.id), chain.funder.address, { task, recipient: task.paidBy!, amount: task.totalUnits }));
  }

  private termsOf(task: Task, funder: string): Terms {
    return {
      funder,
      amount: task.totalUnits,
      fee: task.feeUnits,
      deadline: BigInt(Math.ceil(task.deadline.getTime() / 1000)),
      gracePeriod: BigInt(this.gracePeriodSeconds),
    };
  }

  /**
   * The agent raised the reward or extended the deadline: queues TaskEscrow.amend from the funding wallet,
   * which brings the escrow to the task's terms when it is sent. Refused for an escrow funded by someone
   * other than the funding wallet (only the funder can amend on chain).
   */
  async amend(em: Em, task: Task): Promise<void> {
    const chain = this.chains.require(task.mode);
    const escrow = await em.findOne(Escrow, { task: task.id });
    if (!escrow) throw new ConflictError("the task has no escrow yet; try again in a moment");
    if (escrow.funder !== chain.funder.address) {
      throw new ConflictError("this task's escrow was funded by its agent's own wallet: only that wallet can amend it on chain");
    }
    if (escrow.status !== EscrowStatus.FUNDING && escrow.status !== EscrowStatus.FUNDED) {
      throw new ConflictError(`the task's escrow is ${escrow.status}: it can no longer be changed`, { escrowStatus: escrow.status });
    }
    em.persist(new ChainTx(chain.key, ChainTxKind.AMEND, Intents.amend(task.id), chain.funder.address, { task }));
  }

  /** A tip for a PAID task: TaskEscrow.tip from the funding wallet to the operator's payout address. */
  tip(em: Em, task: Task, tipId: string, payee: string, amount: bigint): void {
    const chain = this.chains.require(task.mode);
    em.persist(new ChainTx(chain.key, ChainTxKind.TIP, Intents.tip(tipId), chain.funder.address, { task, recipient: payee, amount }));
  }

  /**
   * Operators may only take tasks whose money is already locked on chain.
   * The task's `fundedAt` is set in the transaction that records its escrow
   * FUNDED and cleared in the one that records it released, refunded or
   * moved, so a task that shows it needs no read of its escrow; one that does
   * not is refused with the escrow's status.
   */
  async assertFunded(em: Em, task: Task): Promise<void> {
    if (task.fundedAt != null) return;
    const escrow = await em.findOne(Escrow, { task: task.id });
    if (escrow?.status !== EscrowStatus.FUNDED) {
      throw new ConflictError("the task's escrow is not funded on chain yet; try again in a moment", { escrowStatus: escrow?.status ?? null });
    }
  }

  /** Test money credited in the ledger (a new agent's test balance) is minted to the funding wallet, in the same transaction. */
  backTestCredit(em: Em, agentId: string, amount: bigint): void {
    const chain = this.chains.forMode(Mode.TEST);
    if (!chain || amount === 0n) return;
    em.persist(new ChainTx(chain.key, ChainTxKind.MINT, Intents.mintForAgent(chain.key, agentId), chain.funder.address, { recipient: chain.funder.address, amount }));
  }

  /**
   * Waits (bounded by CHAIN_FUNDING_WAIT_MS) until the task's funding is
   * mined or has failed, so a posted task can be taken at once. Woken by this
   * process's sender (whose outcome has committed by then: nothing to read);
   * reads the escrow about once a second for a sender on another replica.
   */
  async awaitFunded(em: Em, task: Task): Promise<void> {
    const until = Date.now() + this.fundingWaitMs;
    const fork = em.fork();
    while (Date.now() < until) {
      if (this.settledFundings.delete(task.id)) return;
      const woken = await new Promise<boolean>((resolve) => {
        const done = (settled: boolean) => {
          clearTimeout(timer);
          this.fundings.off(task.id, onSettled);
          resolve(settled);
        };
        const onSettled = () => done(true);
        // This process's sender wakes the wait; the timer is for a sender on another replica.
        const timer = setTimeout(() => done(false), Math.min(1_000, Math.max(0, until - Date.now())));
        this.fundings.once(task.id, onSettled);
      });
      if (woken) {
        this.settledFundings.delete(task.id);
        return;
      }
      const escrow = await fork.findOne(Escrow, { task: task.id }, { fields: ["status"], disableIdentityMap: true });
      if (escrow?.status !== EscrowStatus.FUNDING) return;
    }
  }

  /** Called by the sender after an outcome of a task's row committed (its funding, or what called the funding off). */
  fundingSettled(taskId: string): void {
    // Remembered briefly for a post whose wait starts only after the outcome (the funding can be mined before postTask waits).
    const now = Date.now();
    for (const [id, at] of this.settledFundings) {
      if (at > now - this.fundingWaitMs) break;
      this.settledFundings.delete(id);
    }
    this.settledFundings.delete(taskId);
    this.settledFundings.set(taskId, now);
    this.fundings.emit(taskId);
  }

  /** The escrow of a task as API clients see it; null when it has none (posted before settlement was on chain, or not yet swept). */
  async snapshot(em: Em, taskId: string): Promise<EscrowSnapshot | null> {
    const escrow = await em.findOne(Escrow, { task: taskId });
    if (!escrow) return null;
    const open = escrow.status === EscrowStatus.FUNDED || escrow.status === EscrowStatus.FUNDING;
    const settlement = open ? await em.findOne(ChainTx, { intentKey: Intents.settle(taskId), status: { $in: [...OPEN_TX_STATUSES] } }, { fields: ["kind"] }) : null;
    return this.snapshotOf(escrow, settlement?.kind ?? null);
  }

  /** The snapshot of an escrow already read, with the kind of its open release or refund (`settling`), if any. */
  snapshotOf(escrow: Escrow, settling: ChainTxKind | null): EscrowSnapshot {
    let status = escrow.status as unknown as EscrowViewStatus;
    if (escrow.status === EscrowStatus.FUNDED || escrow.status === EscrowStatus.FUNDING) {
      if (settling === ChainTxKind.RELEASE) status = EscrowViewStatus.RELEASING;
      if (settling === ChainTxKind.REFUND) status = EscrowViewStatus.REFUNDING;
    }
    return { status, chain: this.chains.byKey(escrow.chainKey), escrow };
  }
}
