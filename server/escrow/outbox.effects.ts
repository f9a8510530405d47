import { MaxUint256 } from "ethers";
import type { Em } from "../db/orm";
import { formatUsd } from "../common/money";
import type { Chain } from "../chain/chains";
import { EscrowState, type Terms } from "../chain/contracts";
import type { Call, Receipt } from "../chain/transactions";
import { Task } from "../tasks/task.entity";
import { TaskStatus } from "../tasks/task.enums";
import { ChainTx, ChainTxKind, ChainTxStatus } from "./chain-tx.entity";
import { Escrow, EscrowStatus } from "./escrow.entity";
import { Intents, targetTerms } from "./escrow.service";
import type { SettlementOutcomes } from "./settlement";

/**
 * A call that TaskEscrow can make for many tasks in one transaction: a
 * funding (`fundBatch`) or a release (`releaseBatch`). Batches are all or
 * nothing: one entry the chain refuses reverts the whole transaction.
 */
export type BatchEntry = { kind: ChainTxKind.FUND; taskId: string; terms: Terms } | { kind: ChainTxKind.RELEASE; taskId: string; terms: Terms; payee: string };

/** The most entries one batch transaction carries. */
export const MAX_BATCH = 20;

/**
 * A batch's gas ceiling: about twice what an entry costs in a batch
 * (contracts/README.md: fundBatch 32k–40k, releaseBatch 40k–47k per task)
 * per entry, plus the transaction's own cost.
 */
const BATCH_GAS = { base: 100_000n, perEntry: 100_000n };

/** What to do with a row that has no nonce yet. */
export type Plan =
  /**
   * Simulate and send; a simulation that reverts with one of `onRevert`'s errors becomes that plan instead.
   * With `batch`, the call may go out in one transaction with other rows' entries of its kind.
   */
  | { action: "send"; call: Call; gasLimit: bigint; onRevert?: Partial<Record<string, Plan>>; batch?: BatchEntry }
  /** Not yet: something it depends on is still in flight. */
  | { action: "wait"; reason: string }
  /** Nothing to send; `apply` (if any) runs in the transaction that marks the row SKIPPED. */
  | { action: "skip"; reason: string; apply?: (em: Em) => Promise<void> }
  | { action: "fail"; reason: string };

/**
 * Gas limits per kind: about twice what each costs on the local chain
 * (contracts/README.md: fund 77k–94k, release 82k, refund 50k), so a
 * dearer path (a balance slot going from zero to non-zero, USDC's proxy on
 * Base) still fits. A limit is a ceiling: only the gas used is paid.
 * Simulating with eth_call and a fixed ceiling costs one execution, where
 * eth_estimateGas searches with many.
 */
const GAS_LIMIT: Record<ChainTxKind, bigint> = {
  [ChainTxKind.MINT]: 120_000n,
  [ChainTxKind.APPROVE]: 120_000n,
  [ChainTxKind.FUND]: 200_000n,
  [ChainTxKind.RELEASE]: 200_000n,
  [ChainTxKind.REFUND]: 120_000n,
  [ChainTxKind.PAYBACK]: 120_000n,
  [ChainTxKind.AMEND]: 200_000n,
  [ChainTxKind.TIP]: 150_000n,
};

/** Between the check of escrowOf and the simulation, the escrow was settled by someone else: the indexer records it. */
const SETTLED_MEANWHILE: Partial<Record<string, Plan>> = {
  TaskEscrowAlreadySettled: { action: "skip", reason: "the chain shows the escrow settled; the indexer reconciles it" },
};

/** A reverted transaction is checked and sent again with a fresh nonce this many times before it is given up. */
const MAX_ATTEMPTS = 5;

/**
 * Per kind of outbox row: the checks against the chain before a nonce is
 * spent (so a settle that the chain would refuse, or that already happened,
 * is not sent), and what a mined or reverted transaction means for the books.
 */
export class OutboxEffects {
  constructor(private readonly outcomes: SettlementOutcomes) {}

  async plan(em: Em, chain: Chain, row: ChainTx): Promise<Plan> {
    switch (row.kind) {
      case ChainTxKind.MINT:
        if (!chain.mintable) return { action: "fail", reason: "this chain's USDC cannot be minted" };
        return { action: "send", call: { to: chain.usdc.address, data: chain.usdc.mint(row.recipient!, row.amount!) }, gasLimit: GAS_LIMIT.MINT };
      case ChainTxKind.APPROVE:
        if ((await chain.usdc.allowance(chain.rpc, chain.funder.address, chain.escrow.address)) >= MaxUint256 / 2n) {
          return { action: "skip", reason: "TaskEscrow is already approved" };
        }
        return { action: "send", call: { to: chain.usdc.address, data: chain.usdc.approveAll(chain.escrow.address) }, gasLimit: GAS_LIMIT.APPROVE };
      case ChainTxKind.FUND:
        return this.planFund(em, chain, await this.escrowOf(em, row));
      case ChainTxKind.RELEASE:
        return this.planRelease(em, chain, await this.escrowOf(em, row));
      case ChainTxKind.REFUND:
        return this.planRefund(em, chain, await this.escrowOf(em, row));
      case ChainTxKind.PAYBACK:
        return this.planPayback(chain, row, await this.escrowOf(em, row));
      case ChainTxKind.AMEND:
        return this.planAmend(em, chain, row, await this.escrowOf(em, row));
      case ChainTxKind.TIP:
        return this.planTip(chain, row, await this.escrowOf(em, row));
    }
  }

  /** One transaction for several rows' entries of one kind (at least two, at most MAX_BATCH). */
  batchCall(chain: Chain, entries: BatchEntry[]): { call: Call; gasLimit: bigint } {
    const funds = entries.filter((entry) => entry.kind === ChainTxKind.FUND);
    const releases = entries.filter((entry) => entry.kind === ChainTxKind.RELEASE);
    if (entries.length < 2 || entries.length > MAX_BATCH || (funds.length && releases.length)) throw new Error(`a batch is 2 to ${MAX_BATCH} entries of one kind`);
    const data = funds.length ? chain.escrow.fundBatch(funds) : chain.escrow.releaseBatch(releases);
    return { call: { to: chain.escrow.address, data }, gasLimit: BATCH_GAS.base + BATCH_GAS.perEntry * BigInt(entries.length) };
  }

  async mined(em: Em, chain: Chain, row: ChainTx, receipt: Receipt): Promise<void> {
    const tx = { txHash: receipt.transactionHash };
    if (row.kind === ChainTxKind.FUND) await this.outcomes.funded(em, await this.escrowOf(em, row), tx);
    if (row.kind === ChainTxKind.REFUND) await this.outcomes.refunded(em, await this.escrowOf(em, row), { ...tx, reclaimed: false });
    if (row.kind === ChainTxKind.PAYBACK) this.outcomes.paidBack(em, (await this.escrowOf(em, row)).task, row.recipient!, row.amount!);
    if (row.kind === ChainTxKind.RELEASE) {
      const escrow = await this.escrowOf(em, row);
      // A batch releases several tasks: this row's is the event of its escrow's task id.
      const released = receipt.logs.map((log) => chain.escrow.parse(log)).find((event) => event?.name === "TaskReleased" && event.taskId.toLowerCase() === escrow.chainTaskId.toLowerCase());
      if (released?.name !== "TaskReleased") throw new Error(`release ${receipt.transactionHash} succeeded without a TaskReleased event for its task`);
      await this.outcomes.released(em, escrow, { ...tx, payee: released.payee, payout: released.payout, fee: released.fee });
    }
    if (row.kind === ChainTxKind.AMEND) {
      const amended = receipt.logs.map((log) => chain.escrow.parse(log)).find((event) => event?.name === "TaskAmended");
      if (amended?.name !== "TaskAmended") throw new Error(`amendment ${receipt.transactionHash} succeeded without a TaskAmended event`);
      await this.outcomes.amended(em, await this.escrowOf(em, row), { ...tx, amount: amended.amount, fee: amended.fee, deadline: amended.deadline });
    }
    if (row.kind === ChainTxKind.TIP) await this.outcomes.tipped(em, tipIdOf(row), tx);
  }

  /**
   * A mined revert. The state the transaction was simulated against may have
   * changed before it was mined, so "retry" checks and sends the intent again
   * with a new nonce; after MAX_ATTEMPTS it is "final": a funding that cannot
   * be made calls its task off, anything else is reported.
   */
  async reverted(em: Em, chain: Chain, row: ChainTx, reason: string): Promise<"retry" | "final"> {
    if (row.attempts < MAX_ATTEMPTS) return "retry";
    if (row.kind === ChainTxKind.FUND) {
      await this.outcomes.fundingFailed(em, await this.escrowOf(em, row), reason);
      return "final";
    }
    if (row.kind === ChainTxKind.AMEND) {
      await this.outcomes.amendFailed(em, await this.escrowOf(em, row), reason);
      return "final";
    }
    this.outcomes.report(em, chain.key, `${row.kind}_REVERTED`, `${row.kind.toLowerCase()} transaction ${row.txHash} reverted (${reason}) after ${row.attempts} attempt(s)`, false, row.task);
    return "final";
  }

  private async planFund(em: Em, chain: Chain, escrow: Escrow): Promise<Plan> {
    if (escrow.status !== EscrowStatus.FUNDING) return { action: "skip", reason: `the escrow is already ${escrow.status}` };
    const task = await em.findOneOrFail(Task, escrow.task.id);
    // The task ended first: its refund row decides whether this funding goes out at all.
    if (task.status === TaskStatus.CANCELLED || task.status === TaskStatus.EXPIRED) return { action: "wait", reason: "the task ended before its escrow was funded" };
    return {
      action: "send",
      call: { to: chain.escrow.address, data: chain.escrow.fund(escrow.chainTaskId, escrow.terms) },
      gasLimit: GAS_LIMIT.FUND,
      batch: { kind: ChainTxKind.FUND, taskId: escrow.chainTaskId, terms: escrow.terms },
      onRevert: {
        TaskEscrowAlreadyFunded: { action: "skip", reason: "the task id is already funded on chain; the indexer reconciles it" },
        ERC20InsufficientBalance: { action: "wait", reason: `the funding wallet holds less than the ${formatUsd(escrow.amount)} USDC this escrow needs (a mint, deposit or refund is still on its way)` },
      },
    };
  }

  private async planRelease(em: Em, chain: Chain, escrow: Escrow): Promise<Plan> {
    if (escrow.status === EscrowStatus.FUNDING) return { action: "wait", reason: "the escrow's funding is still in flight" };
    if (escrow.status !== EscrowStatus.FUNDED) return { action: "skip", reason: `the escrow is already ${escrow.status}` };
    if ((await chain.escrow.escrowOf(chain.rpc, escrow.chainTaskId)).state !== EscrowState.Funded) {
      return { action: "skip", reason: "the chain shows the escrow settled; the indexer reconciles it" };
    }
    if (await this.amending(em, escrow)) return { action: "wait", reason: "an amendment of the escrow's terms is in flight" };
    const task = await em.findOneOrFail(Task, escrow.task.id, { populate: ["operator"] });
    const payee = task.operator!.payoutAddress;
    return {
      action: "send",
      call: { to: chain.escrow.address, data: chain.escrow.release(escrow.chainTaskId, escrow.terms, payee) },
      gasLimit: GAS_LIMIT.RELEASE,
      onRevert: SETTLED_MEANWHILE,
      batch: { kind: ChainTxKind.RELEASE, taskId: escrow.chainTaskId, terms: escrow.terms, payee },
    };
  }

  private async planRefund(em: Em, chain: Chain, escrow: Escrow): Promise<Plan> {
    if (escrow.status === EscrowStatus.FUNDING) return this.planRefundOfUnfunded(em, escrow);
    if (escrow.status !== EscrowStatus.FUNDED) return { action: "skip", reason: `the escrow is already ${escrow.status}` };
    if ((await chain.escrow.escrowOf(chain.rpc, escrow.chainTaskId)).state !== EscrowState.Funded) {
      return { action: "skip", reason: "the chain shows the escrow settled; the indexer reconciles it" };
    }
    if (await this.amending(em, escrow, [ChainTxStatus.SIGNED, ChainTxStatus.SENT])) return { action: "wait", reason: "an amendment of the escrow's terms is in flight" };
    return { action: "send", call: { to: chain.escrow.address, data: chain.escrow.refund(escrow.chainTaskId, escrow.terms) }, gasLimit: GAS_LIMIT.REFUND, onRevert: SETTLED_MEANWHILE };
  }

  /** A refunded x402 `exact` payment goes back to its wallet once the escrow's money is in the funding wallet (refunded, reclaimed, or never sent). */
  private planPayback(chain: Chain, row: ChainTx, escrow: Escrow): Plan {
    if (escrow.status === EscrowStatus.FUNDING || escrow.status === EscrowStatus.FUNDED) return { action: "wait", reason: "the escrow's money is not back in the funding wallet yet" };
    if (escrow.status === EscrowStatus.RELEASED) return { action: "fail", reason: "the escrow was released to an operator; there is nothing to pay back" };
    return {
      action: "send",
      call: { to: chain.usdc.address, data: chain.usdc.transfer(row.recipient!, row.amount!) },
      gasLimit: GAS_LIMIT.PAYBACK,
      onRevert: { ERC20InsufficientBalance: { action: "wait", reason: `the funding wallet holds less than the ${formatUsd(row.amount!)} USDC to pay back` } },
    };
  }

  /**
   * Whether an amendment of this escrow is open (by default also one not yet signed). A release waits for
   * every amendment, so it pays the raised reward; a refund only for one already signed (a pending one is
   * skipped once the task has ended, and the refund returns the terms on chain).
   */
  private async amending(em: Em, escrow: Escrow, statuses: readonly ChainTxStatus[] = OPEN_STATUSES): Promise<boolean> {
    return (await em.count(ChainTx, { task: escrow.task.id, kind: ChainTxKind.AMEND, status: { $in: [...statuses] } })) > 0;
  }

  /**
   * Brings a funded escrow to the terms its task has now (reward + fee, deadline): one transaction covers
   * every change made since the last one mined, so later rows find nothing left to do. Waits for the funding
   * and for an earlier amendment in flight; skipped once the task has ended or its escrow was settled.
   */
  private async planAmend(em: Em, chain: Chain, row: ChainTx, escrow: Escrow): Promise<Plan> {
    if (escrow.status === EscrowStatus.FUNDING) return { action: "wait", reason: "the escrow's funding is still in flight" };
    if (escrow.status !== EscrowStatus.FUNDED) return { action: "skip", reason: `the escrow is already ${escrow.status}` };
    const task = await em.findOneOrFail(Task, escrow.task.id);
    if (task.status === TaskStatus.CANCELLED || task.status === TaskStatus.EXPIRED) {
      return { action: "skip", reason: `the task is ${task.status}: its refund returns the escrow as it is on chain` };
    }
    const earlier = await em.count(ChainTx, { task: escrow.task.id, kind: ChainTxKind.AMEND, status: { $in: [ChainTxStatus.SIGNED, ChainTxStatus.SENT] }, id: { $ne: row.id } });
    if (earlier > 0) return { action: "wait", reason: "an earlier amendment of this escrow is in flight" };
    const current = escrow.terms;
    const target = targetTerms(escrow, task);
    if (target.amount === current.amount && target.fee === current.fee && target.deadline === current.deadline) {
      return { action: "skip", reason: "the escrow already holds the task's current terms" };
    }
    if ((await chain.escrow.escrowOf(chain.rpc, escrow.chainTaskId)).state !== EscrowState.Funded) {
      return { action: "skip", reason: "the chain shows the escrow settled; the indexer reconciles it" };
    }
    // Refusals that waiting cannot cure: the task goes back to the terms its escrow holds, so nothing waits on this row.
    const undo = (why: string): Plan => ({
      action: "skip",
      reason: why,
      apply: async (tx) => this.outcomes.amendFailed(tx, await tx.findOneOrFail(Escrow, escrow.id), why),
    });
    return {
      action: "send",
      call: { to: chain.escrow.address, data: chain.escrow.amend(escrow.chainTaskId, current, target) },
      gasLimit: GAS_LIMIT.AMEND,
      onRevert: {
        ...SETTLED_MEANWHILE,
        TaskEscrowInvalidDeadline: undo("the new deadline had passed on chain before the amendment could be sent"),
        TaskEscrowReleaseWindowClosed: undo("the escrow's release window closed before the amendment could be sent"),
        TaskEscrowInvalidAmendment: undo("the chain refused the new terms"),
        TaskEscrowTermsMismatch: { action: "wait", reason: "the chain holds other terms than recorded: an earlier amendment is being recorded" },
        ERC20InsufficientBalance: { action: "wait", reason: `the funding wallet holds less than the raise this amendment needs (a mint, deposit or refund is still on its way)` },
      },
    };
  }

  /** A tip goes out once the task's release is mined (a tip is only given for a PAID task). */
  private planTip(chain: Chain, row: ChainTx, escrow: Escrow): Plan {
    if (escrow.status !== EscrowStatus.RELEASED) return { action: "wait", reason: "the task's release is not recorded yet" };
    return {
      action: "send",
      call: { to: chain.escrow.address, data: chain.escrow.tip(escrow.chainTaskId, row.recipient!, row.amount!) },
      gasLimit: GAS_LIMIT.TIP,
      onRevert: { ERC20InsufficientBalance: { action: "wait", reason: `the funding wallet holds less than the ${formatUsd(row.amount!)} USDC tip (a mint, deposit or refund is still on its way)` } },
    };
  }

  /**
   * The task ended while its funding had not been mined. A funding not yet
   * signed is called off (compare-and-set against the sender signing it), and
   * nothing moves; one already signed may still land, so the refund waits.
   */
  private async planRefundOfUnfunded(em: Em, escrow: Escrow): Promise<Plan> {
    const funding = await em.findOne(ChainTx, { intentKey: Intents.fund(escrow.task.id) });
    const unfunded = async (tx: Em) => {
      const current = await tx.findOneOrFail(Escrow, escrow.id);
      if (current.status === EscrowStatus.FUNDING) current.status = EscrowStatus.UNFUNDED;
    };
    if (!funding || funding.status === ChainTxStatus.PENDING) {
      return {
        action: "skip",
        reason: "the task ended before its escrow was funded: nothing left the funding wallet",
        apply: async (tx) => {
          if (funding) {
            const calledOff = await tx.nativeUpdate(ChainTx, { id: funding.id, status: ChainTxStatus.PENDING }, { status: ChainTxStatus.SKIPPED, lastError: "the task ended before it was sent", lockedUntil: null });
            if (calledOff !== 1) throw new LostRace();
          }
          await unfunded(tx);
        },
      };
    }
    if (funding.status === ChainTxStatus.SIGNED || funding.status === ChainTxStatus.SENT || funding.status === ChainTxStatus.MINED) {
      return { action: "wait", reason: "the escrow's funding is in flight" };
    }
    return { action: "skip", reason: `the escrow's funding ${funding.status.toLowerCase()}: nothing left the funding wallet`, apply: unfunded };
  }

  /** The row's escrow with its task and the task's operator, in one statement: the plans and outcomes read the task by id after this, from the identity map. */
  private async escrowOf(em: Em, row: ChainTx): Promise<Escrow> {
    return em.findOneOrFail(Escrow, { task: row.task!.id }, { populate: ["task", "task.operator"] });
  }
}

const OPEN_STATUSES: readonly ChainTxStatus[] = [ChainTxStatus.PENDING, ChainTxStatus.SIGNED, ChainTxStatus.SENT];

/** The tip a TIP row pays: its id is the end of the intent key (`tip:<id>`). */
function tipIdOf(row: ChainTx): string {
  return row.intentKey.slice("tip:".length);
}

/** Another writer changed the row first; the step is abandoned and the row looked at again. */
export class LostRace extends Error {
  constructor() {
    super("the outbox row changed while this step ran");
    this.name = "LostRace";
  }
}
