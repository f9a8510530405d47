import { hexlify, randomBytes } from "ethers";
import type { Em, Orm } from "../db/orm";
import { Mode } from "../common/mode";
import { formatUsd } from "../common/money";
import type { Chain } from "../chain/chains";
import type { EscrowEvent, Transfer } from "../chain/contracts";
import type { DepositService } from "../deposits/deposit.service";
import { Task } from "../tasks/task.entity";
import { TaskStatus } from "../tasks/task.enums";
import { TERMINAL_STATUSES } from "../tasks/task.state-machine";
import { ChainInstance, ChainTx, ChainTxKind, ChainTxStatus, OPEN_TX_STATUSES } from "./chain-tx.entity";
import { Escrow, EscrowDiscrepancy, EscrowStatus } from "./escrow.entity";
import { Intents, targetTerms, type EscrowService } from "./escrow.service";
import type { ChainLogHandlers, IndexedLog } from "./indexer";
import { compareBooksAtRest, type Books } from "./books";
import type { SettlementOutcomes } from "./settlement";

/**
 * Keeps the books equal to the chain. From the indexer, each TaskEscrow event
 * is checked against the escrow HumanOps recorded, and applied where the
 * chain is the truth (a release or refund the database never recorded, a
 * reclaim by anyone after the grace period). A periodic sweep finds what the
 * database alone shows is missing (a verified task with no release queued,
 * an ended task whose escrow has no refund) and queues it, and compares the
 * totals with the chain.
 */
export class Reconciler implements ChainLogHandlers {
  /** Escrows preload read, by the transaction they were read in, then by chain and task id (null: none). */
  private readonly preloaded = new WeakMap<Em, Map<string, Escrow | null>>();

  constructor(
    private readonly orm: Orm,
    private readonly escrows: EscrowService,
    private readonly outcomes: SettlementOutcomes,
    private readonly deposits: DepositService,
    /** A chain deployment no process has vouched for in this long is gone. */
    private readonly goneAfterMs: number,
  ) {}

  /** The escrows of a step's events, read in one statement, for escrowEvent in the same transaction (`em`). */
  async preload(em: Em, chain: Chain, events: EscrowEvent[]): Promise<void> {
    const ids = [...new Set(events.map((event) => event.taskId))];
    const escrows = await em.find(Escrow, { chainKey: chain.key, chainTaskId: { $in: ids } });
    const byId = new Map<string, Escrow | null>(ids.map((id) => [`${chain.key}:${id}`, null]));
    for (const escrow of escrows) byId.set(`${chain.key}:${escrow.chainTaskId}`, escrow);
    this.preloaded.set(em, byId);
  }

  async escrowEvent(em: Em, chain: Chain, event: EscrowEvent, log: IndexedLog): Promise<void> {
    const dedupeKey = `${chain.key}:${log.txHash}:${log.logIndex}`;
    const preloaded = this.preloaded.get(em)?.get(`${chain.key}:${event.taskId}`);
    const escrow = preloaded !== undefined ? preloaded : await em.findOne(Escrow, { chainKey: chain.key, chainTaskId: event.taskId });
    if (!escrow) {
      this.outcomes.report(em, chain.key, "UNKNOWN_ESCROW", `${event.name} in ${log.txHash} for task id ${event.taskId}, which HumanOps never funded`, false, undefined, dedupeKey);
      return;
    }
    const before = escrow.status;
    const tx = { txHash: log.txHash };
    switch (event.name) {
      case "TaskFunded":
        if (event.funder !== escrow.funder || event.amount !== escrow.amount || event.fee !== escrow.fee || event.deadline !== escrow.deadline || Number(event.gracePeriod) !== escrow.gracePeriod) {
          this.outcomes.report(em, chain.key, "TERMS_MISMATCH", `task ${escrow.task.id} was funded on chain with other terms than HumanOps recorded (${log.txHash})`, false, escrow.task, dedupeKey);
          return;
        }
        await this.outcomes.funded(em, escrow, tx);
        break;
      case "TaskReleased":
        await this.outcomes.released(em, escrow, { ...tx, payee: event.payee, payout: event.payout, fee: event.fee });
        break;
      case "TaskRefunded":
      case "TaskReclaimed":
        await this.outcomes.refunded(em, escrow, { ...tx, reclaimed: event.name === "TaskReclaimed" });
        break;
      case "TaskAmended":
        if (event.funder !== escrow.funder || Number(event.gracePeriod) !== escrow.gracePeriod) {
          this.outcomes.report(em, chain.key, "TERMS_MISMATCH", `task ${escrow.task.id} was amended on chain with another funder or grace period than HumanOps recorded (${log.txHash})`, false, escrow.task, dedupeKey);
          return;
        }
        await this.outcomes.amended(em, escrow, { ...tx, amount: event.amount, fee: event.fee, deadline: event.deadline });
        break;
      case "TaskTipped":
        await this.outcomes.tippedOnChain(em, chain.key, escrow, { ...tx, payee: event.payee, amount: event.amount }, dedupeKey);
        break;
    }
    if (escrow.status !== before && !(await this.sentByHumanOps(em, chain.key, escrow, log.txHash))) {
      this.outcomes.report(em, chain.key, "RECORDED_FROM_CHAIN", `${event.name} of task ${escrow.task.id} (${log.txHash}) was not sent by this HumanOps; recorded from the chain`, true, escrow.task, dedupeKey);
    }
  }

  /** Whether the outbox signed this transaction: any signing of one of the task's rows (a replaced one may be the one mined). */
  private async sentByHumanOps(em: Em, chainKey: string, escrow: Escrow, txHash: string): Promise<boolean> {
    const rows = await em.find(ChainTx, { chainKey, task: escrow.task });
    return rows.some((row) => row.hashes.includes(txHash));
  }

  async transferIn(em: Em, chain: Chain, transfer: Transfer, log: IndexedLog): Promise<void> {
    await this.deposits.recordTransfer(em, chain, transfer, log.txHash, log.blockNumber);
  }

  /**
   * One sweep of a chain: every open task has its escrow, every decision its
   * transaction, and (once the indexer has read the chain up to its head, so
   * deposits are in the books) the totals agree.
   */
  async sweep(chain: Chain, indexed: () => Promise<boolean>): Promise<void> {
    if (chain.mode === Mode.TEST) await this.rehomeTestEscrows(chain);
    await this.queueMissing(chain);
    if (await indexed()) await this.checkTotals(chain);
  }

  /**
   * Queues what the database shows is missing: an escrow for an open task
   * posted before settlement was on chain, a release for a verified task
   * (once its review window, if any, is over: its own job sends it), a
   * refund for an ended task whose escrow holds money.
   */
  private async queueMissing(chain: Chain): Promise<void> {
    const em = this.orm.em.fork();
    const unescrowed = await em.getConnection().execute<Array<{ id: string }>>(
      `select t.id from tasks t where t.mode = ? and t.status not in (?, ?, ?) and not exists (select 1 from escrows e where e.task_id = t.id)`,
      [chain.mode, ...TERMINAL_STATUSES],
    );
    const unsettled = await em.getConnection().execute<Array<{ id: string; status: TaskStatus }>>(
      `select t.id, t.status from tasks t join escrows e on e.task_id = t.id
        where t.mode = ? and e.chain_key = ? and e.status in (?, ?) and t.status in (?, ?, ?)
          and t.release_held_until is null
          and not exists (select 1 from chain_txs c where c.intent_key = 'settle:' || t.id)`,
      [chain.mode, chain.key, EscrowStatus.FUNDING, EscrowStatus.FUNDED, TaskStatus.VERIFIED, TaskStatus.CANCELLED, TaskStatus.EXPIRED],
    );
    for (const { id } of unescrowed) {
      await this.fix(chain, id, "ESCROW_OPENED", "had no escrow: funding it now", (tx, task) => this.escrows.open(tx, task));
    }
    for (const { id, status } of unsettled) {
      const what = `is ${status} with its escrow unsettled and nothing queued`;
      if (status === TaskStatus.VERIFIED) await this.fix(chain, id, "RELEASE_QUEUED", `${what}: queued its release`, (tx, task) => this.escrows.release(tx, task));
      else await this.fix(chain, id, "REFUND_QUEUED", `${what}: queued its refund`, (tx, task) => this.escrows.refund(tx, task));
    }
  }

  private async fix(chain: Chain, taskId: string, kind: string, what: string, apply: (em: Em, task: Task) => void): Promise<void> {
    await this.orm.em.fork().transactional(async (tx) => {
      const task = await tx.findOneOrFail(Task, taskId);
      apply(tx, task);
      this.outcomes.report(tx, chain.key, kind, `task ${taskId} ${what}`, true, task);
    });
  }

  /**
   * A local test chain started afresh (the in-process one lives as long as
   * its process) holds none of the escrows recorded on an earlier one. Open
   * test tasks' escrows on a chain that is gone (no process has vouched for
   * it lately) move to this chain and are funded again; ended ones were
   * refunded in the books already and are marked unfunded.
   */
  private async rehomeTestEscrows(chain: Chain): Promise<void> {
    const em = this.orm.em.fork();
    const alive = (await em.find(ChainInstance, { seenAt: { $gte: Date.now() - this.goneAfterMs } })).map((instance) => instance.chainKey);
    const stale = await em.find(Escrow, { mode: Mode.TEST, chainKey: { $nin: [chain.key, ...alive] }, status: { $in: [EscrowStatus.FUNDING, EscrowStatus.FUNDED] } }, { populate: ["task"] });
    for (const escrow of stale) {
      await em.fork().transactional(async (tx) => {
        const current = await tx.findOneOrFail(Escrow, escrow.id, { populate: ["task"] });
        const oldKey = current.chainKey;
        // The rows for the chain that is gone keep their history under a key that frees the intent for this chain.
        await tx.getConnection().execute(
          `update chain_txs set intent_key = intent_key || '@' || chain_key, status = case when status in (?, ?, ?) then ? else status end where task_id = ? and chain_key = ?`,
          [...OPEN_TX_STATUSES, ChainTxStatus.FAILED, current.task.id, oldKey],
          "run",
          tx.getTransactionContext(),
        );
        // Until it is funded on this chain, an open task is not offered to operators.
        if (current.status === EscrowStatus.FUNDED) this.outcomes.emptied(current);
        if (TERMINAL_STATUSES.includes(current.task.status)) {
          current.status = EscrowStatus.UNFUNDED;
        } else {
          Object.assign(current, { chainKey: chain.key, chainId: chain.id, contract: chain.escrow.address, chainTaskId: hexlify(randomBytes(32)), funder: chain.funder.address, status: EscrowStatus.FUNDING, fundTxHash: null });
          // Funded afresh with the task's terms as they are now (a raised reward, an extended deadline).
          const target = targetTerms(current, current.task);
          Object.assign(current, { amount: target.amount, fee: target.fee, deadline: target.deadline });
          tx.persist(new ChainTx(chain.key, ChainTxKind.FUND, Intents.fund(current.task.id), chain.funder.address, { task: current.task }));
        }
        this.outcomes.report(tx, chain.key, "ESCROW_REHOMED", `task ${current.task.id}'s escrow was on ${oldKey}, which is gone; ${current.status === EscrowStatus.FUNDING ? "funding it again on this chain" : "its task has ended"}`, true, current.task);
      });
    }
  }

  /**
   * Compares the totals with the chain while nothing moves (compareBooksAtRest).
   * A test chain's funding wallet holding less than the balances it backs
   * (test money credited before this chain existed, e.g. after the
   * in-process chain restarted) is topped up by minting, net of what the
   * outbox will still bring it (mints and refunds queued); differences are
   * reported once the outbox is idle.
   */
  private async checkTotals(chain: Chain): Promise<void> {
    const em = this.orm.em.fork();
    const atRest = await compareBooksAtRest(em, chain);
    if (!atRest) return;
    const { books, activity: before } = atRest;
    const shortfall = books.wallet.ledger - books.wallet.chain - before.queuedMints - before.queuedRefunds;
    if (shortfall > 0n && chain.mintable) {
      await em.fork().transactional(async (tx) => {
        tx.persist(new ChainTx(chain.key, ChainTxKind.MINT, `mint:${chain.key}:backing:${before.lastEntry}:${before.lastTx}`, chain.funder.address, { recipient: chain.funder.address, amount: shortfall }));
        this.outcomes.report(tx, chain.key, "WALLET_BACKED", `the funding wallet held ${formatUsd(books.wallet.chain)} USDC for ${formatUsd(books.wallet.ledger)} of balances: minting ${formatUsd(shortfall)} test USDC`, true);
      });
      return;
    }
    if (before.open) return;
    for (const name of Object.keys(books) as Array<keyof Books>) {
      const line = books[name];
      if (line.ledger === line.chain) continue;
      await em.fork().transactional(async (tx) => {
        const dedupeKey = `${chain.key}:totals:${name}:${line.ledger}:${line.chain}`;
        if (await tx.count(EscrowDiscrepancy, { dedupeKey })) return;
        this.outcomes.report(tx, chain.key, "TOTALS_DIFFER", `${name}: the books say ${formatUsd(line.ledger)} USDC, the chain ${formatUsd(line.chain)}`, false, undefined, dedupeKey);
      });
    }
  }
}
