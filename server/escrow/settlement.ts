import type { Em } from "../db/orm";
import { ChainTx, ChainTxKind } from "./chain-tx.entity";
import type { Logger } from "../common/logger";
import { formatUsd } from "../common/money";
import type { LedgerService } from "../ledger/ledger.service";
import { Task } from "../tasks/task.entity";
import { TaskStatus } from "../tasks/task.enums";
import type { TaskService } from "../tasks/task.service";
import { type Escrow, EscrowDiscrepancy, EscrowStatus } from "./escrow.entity";
import { Dispute } from "../disputes/dispute.entity";
import { DisputeDecision, DisputeStatus } from "../disputes/dispute.enums";
import { TaskTip, TipStatus } from "../tasks/task-tip.entity";

export interface MinedTx {
  txHash: string;
}

/**
 * What the books do when the chain moves a task's money. Each outcome is
 * applied once, whichever way HumanOps learns of it first: from the receipt
 * of its own transaction (the sender) or from the contract's event (the
 * indexer). The escrow's status is the guard and its version column makes
 * the change a compare-and-set across processes.
 */
export class SettlementOutcomes {
  constructor(
    private readonly tasks: TaskService,
    private readonly ledger: LedgerService,
    private readonly log: Logger,
  ) {}

  async funded(em: Em, escrow: Escrow, tx: MinedTx): Promise<void> {
    if (escrow.status !== EscrowStatus.FUNDING) return;
    escrow.status = EscrowStatus.FUNDED;
    escrow.fundTxHash = tx.txHash;
    this.tasks.escrowFunded(em, await this.taskOf(em, escrow), tx.txHash);
  }

  /** The funding transaction reverted: nothing left the funding wallet. */
  async fundingFailed(em: Em, escrow: Escrow, reason: string): Promise<void> {
    if (escrow.status !== EscrowStatus.FUNDING) return;
    escrow.status = EscrowStatus.UNFUNDED;
    const task = await this.taskOf(em, escrow);
    this.tasks.fundingFailed(em, task, reason);
    this.report(em, escrow.chainKey, "FUNDING_REVERTED", `funding task ${task.id} reverted on chain (${reason}); the task was called off and its agent refunded`, true, task);
  }

  async released(em: Em, escrow: Escrow, tx: MinedTx & { payee: string; payout: bigint; fee: bigint }): Promise<void> {
    if (escrow.status === EscrowStatus.RELEASED) return;
    const task = await this.taskOf(em, escrow);
    if (escrow.status !== EscrowStatus.FUNDED) {
      this.report(em, escrow.chainKey, "RELEASE_OF_UNFUNDED", `a release of task ${task.id} was mined (${tx.txHash}) while its escrow was ${escrow.status}`, false, task);
    }
    escrow.status = EscrowStatus.RELEASED;
    escrow.releaseTxHash = tx.txHash;
    this.tasks.escrowEmptied(task);
    escrow.payee = tx.payee;
    if (task.status === TaskStatus.VERIFIED) {
      this.tasks.paid(em, task, tx.txHash);
      return;
    }
    // The money left escrow for someone HumanOps did not decide to pay: the books cannot follow on their own.
    this.report(
      em,
      escrow.chainKey,
      "RELEASE_WITHOUT_VERIFICATION",
      `task ${task.id} is ${task.status} but its escrow was released on chain to ${tx.payee} (${formatUsd(tx.payout)} + fee ${formatUsd(tx.fee)} USDC, ${tx.txHash})`,
      false,
      task,
    );
  }

  /**
   * The escrow is back in the funding wallet (a refund HumanOps sent, or a
   * reclaim by anyone after deadline + grace). A task already CANCELLED or
   * EXPIRED had its agent refunded at that transition; an open task ends
   * EXPIRED now, with the refund.
   */
  async refunded(em: Em, escrow: Escrow, tx: MinedTx & { reclaimed: boolean }): Promise<void> {
    if (escrow.status === EscrowStatus.REFUNDED) return;
    const task = await this.taskOf(em, escrow);
    escrow.status = EscrowStatus.REFUNDED;
    escrow.refundTxHash = tx.txHash;
    this.tasks.escrowEmptied(task);
    if (task.status === TaskStatus.CANCELLED || task.status === TaskStatus.EXPIRED) return;
    const how = tx.reclaimed ? "reclaimed on chain after its deadline and grace period" : "refunded on chain by a Guardian outside HumanOps";
    if (task.status === TaskStatus.DISPUTED) {
      const dispute = await em.findOne(Dispute, { task: task.id, status: DisputeStatus.OPEN });
      dispute?.decide(DisputeDecision.REFUND, `undecided when the escrow was ${how} (${tx.txHash})`, null);
    }
    if (this.tasks.returnedOnChain(em, task, `the escrow was ${how} (${tx.txHash})`)) {
      this.report(em, escrow.chainKey, "RETURNED_ON_CHAIN", `task ${task.id}'s escrow was ${how}; the task expired and its agent was refunded`, true, task);
      return;
    }
    // Proof is in or verified, yet the money went back: the agent gets it back in the books too, and a person must look.
    this.ledger.refund(em, task);
    this.report(em, escrow.chainKey, "RETURNED_WHILE_OPEN", `task ${task.id} is ${task.status} but its escrow was ${how}; the agent's balance was refunded`, false, task);
  }

  /** The funding wallet sent a refunded x402 payment back to the wallet that paid it. */
  paidBack(em: Em, task: Task, address: string, amount: bigint): void {
    this.ledger.paidBack(em, task, address, amount);
  }

  /**
   * An amendment was mined (from its receipt or the TaskAmended event): the escrow's recorded terms follow
   * the chain, so every later release, refund or amendment passes the terms the chain now holds. Amendments
   * only ever raise the amount and extend the deadline, so an older event seen after a newer one is ignored.
   */
  async amended(em: Em, escrow: Escrow, tx: MinedTx & { amount: bigint; fee: bigint; deadline: bigint }): Promise<void> {
    if (escrow.status !== EscrowStatus.FUNDED) {
      this.report(em, escrow.chainKey, "AMENDMENT_OF_UNFUNDED", `an amendment of task ${escrow.task.id} was mined (${tx.txHash}) while its escrow was ${escrow.status}`, false, escrow.task);
      return;
    }
    if (tx.amount < escrow.amount || tx.deadline < escrow.deadline || (tx.amount === escrow.amount && tx.deadline === escrow.deadline && tx.fee === escrow.fee)) return;
    escrow.amount = tx.amount;
    escrow.fee = tx.fee;
    escrow.deadline = tx.deadline;
    const task = await this.taskOf(em, escrow);
    if (task.totalUnits !== tx.amount || task.feeUnits !== tx.fee) {
      this.report(em, escrow.chainKey, "AMENDED_TERMS_DIFFER", `task ${task.id}'s escrow was amended on chain to ${formatUsd(tx.amount)} USDC (fee ${formatUsd(tx.fee)}, ${tx.txHash}) while the task holds ${formatUsd(task.totalUnits)} (fee ${formatUsd(task.feeUnits)})`, false, task);
    }
  }

  /**
   * An amendment could not be made on chain (it reverted after every retry): the task goes back to the
   * terms its escrow holds, so release and refund stay in step with the chain; the agent gets any raise
   * back in the books.
   */
  async amendFailed(em: Em, escrow: Escrow, reason: string): Promise<void> {
    const task = await this.taskOf(em, escrow);
    this.tasks.changeUndone(em, task, escrow.terms, `the change could not be made on chain (${reason}); the task keeps its escrow's terms`);
    this.report(em, escrow.chainKey, "AMENDMENT_REVERTED", `amending task ${task.id}'s escrow reverted on chain (${reason}); the task went back to the escrow's terms and its agent got any raise back`, true, task);
  }

  /** A tip HumanOps sent was mined: it reached the operator. */
  async tipped(em: Em, tipId: string, tx: MinedTx): Promise<void> {
    const tip = await em.findOne(TaskTip, tipId, { populate: ["task"] });
    if (!tip || tip.status === TipStatus.PAID) return;
    tip.status = TipStatus.PAID;
    tip.txHash = tx.txHash;
    this.tasks.tipPaid(em, tip.task, tip.amount, tx.txHash);
  }

  /** A TaskTipped event: the tip HumanOps sent in that transaction is paid; a tip from anyone else is reported. */
  async tippedOnChain(em: Em, chainKey: string, escrow: Escrow, tx: MinedTx & { payee: string; amount: bigint }, dedupeKey: string): Promise<void> {
    const sent = await em.find(ChainTx, { chainKey, task: escrow.task.id, kind: ChainTxKind.TIP });
    const row = sent.find((candidate) => candidate.hashes.includes(tx.txHash));
    if (row) {
      await this.tipped(em, row.intentKey.slice("tip:".length), tx);
      return;
    }
    this.report(em, chainKey, "TIP_FROM_OUTSIDE", `a tip of ${formatUsd(tx.amount)} USDC to ${tx.payee} for task ${escrow.task.id} (${tx.txHash}) was not sent by HumanOps; nothing was booked`, false, escrow.task, dedupeKey);
  }

  /** The escrow stopped holding the task's money without a release or a refund (moved to another chain): the task is not offered until it is funded again. */
  emptied(escrow: Escrow): void {
    this.tasks.escrowEmptied(escrow.task);
  }

  /** Records a disagreement between the chain and the books (once per dedupe key) and logs it. */
  report(em: Em, chainKey: string, kind: string, detail: string, fixed: boolean, task?: Task, dedupeKey?: string): void {
    em.persist(new EscrowDiscrepancy(chainKey, kind, detail, fixed, task, dedupeKey));
    this.log.warn({ chainKey, kind, taskId: task?.id, fixed }, `reconciliation: ${detail}`);
  }

  private async taskOf(em: Em, escrow: Escrow): Promise<Task> {
    return em.findOneOrFail(Task, escrow.task.id, { populate: ["operator"] });
  }
}
