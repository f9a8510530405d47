import { MaxUint256 } from "ethers";
import type { EventSubscriber } from "@mikro-orm/core";
import type { Orm } from "../db/orm";
import { afterCommitOf } from "../db/commit-hook";
import type { Logger } from "../common/logger";
import type { Chain, Chains } from "../chain/chains";
import type { Services } from "../services";
import { ChainTx, ChainTxKind, OPEN_TX_STATUSES } from "./chain-tx.entity";
import { Intents } from "./escrow.service";
import { ChainIndexer } from "./indexer";
import { OutboxEffects } from "./outbox.effects";
import { ChainSender } from "./outbox.sender";
import { Reconciler } from "./reconciler";
import { SettlementOutcomes } from "./settlement";
import { Periodic, type BackgroundWorker, type WorkerContext } from "../jobs/worker.runtime";

/**
 * The longest the outbox sleeps with nothing to do (it is woken by this
 * process's commits and by new blocks): the pace at which it finds rows
 * another replica queued, or a lease a dead process left behind.
 */
const OUTBOX_IDLE_MS = 1_000;

/** How long a start waits for a fresh in-process chain to be set up (it takes milliseconds; this bounds a stuck one). */
const START_SETTLE_MS = 30_000;

export interface EscrowWorkerOptions {
  /** Lease on a claimed outbox row (CHAIN_LEASE_MS). */
  leaseMs: number;
  reconcileMs: number;
}

/**
 * The background half of on-chain settlement, per process: the outbox
 * sender, one indexer per chain, and the periodic reconciliation sweep.
 */
export class EscrowWorkers implements BackgroundWorker {
  readonly name = "escrow";
  readonly sender: ChainSender;
  readonly reconciler: Reconciler;
  readonly indexers: ChainIndexer[];
  /** Per chain: indexing new blocks, and the reconciliation sweep. */
  private readonly schedules: Array<{ loop: string; periodic: Periodic; runAtStart: boolean }>;
  private readonly catching = new Map<ChainIndexer, Promise<void>>();
  private running = false;

  constructor(
    private readonly orm: Orm,
    private readonly chains: Chains,
    services: Services,
    private readonly log: Logger,
    private readonly options: EscrowWorkerOptions,
  ) {
    const outcomes = new SettlementOutcomes(services.tasks, services.ledger, log);
    this.sender = new ChainSender(orm, chains, new OutboxEffects(outcomes), log, { leaseMs: options.leaseMs, batch: 64, idleMs: Math.max(OUTBOX_IDLE_MS, ...chains.all().map((chain) => chain.pollMs)) }, (row) => {
      // What an outcome queued (jobs such as the mock operator's, chain transactions) wakes its worker from their commit hooks.
      if (row.task) services.escrow.fundingSettled(row.task.id);
    });
    // A chain nobody has vouched for in three sweeps is gone (its process died with it).
    this.reconciler = new Reconciler(orm, services.escrow, outcomes, services.deposits, 3 * options.reconcileMs);
    this.indexers = chains.all().map((chain) => new ChainIndexer(orm, chain, this.reconciler, log));
    // New blocks of an in-process chain are this process's own transactions (the outbox learns of them itself) or
    // a test's: a second is soon enough to index them, and costs an idle server little.
    this.schedules = this.indexers.flatMap((indexer) => [
      {
        loop: `indexer:${indexer.chain.key}`,
        periodic: new Periodic(`indexing chain ${indexer.chain.key}`, Math.max(indexer.chain.pollMs * 4, indexer.chain.inProcess ? 1_000 : 250), () => this.catchUp(indexer), log),
        runAtStart: false,
      },
      {
        loop: `reconciler:${indexer.chain.key}`,
        periodic: new Periodic(
          `reconciling chain ${indexer.chain.key}`,
          options.reconcileMs,
          async () => {
            await this.vouch(indexer.chain, Date.now());
            await this.reconciler.sweep(indexer.chain, () => this.caughtUp(indexer));
          },
          log,
        ),
        runAtStart: true,
      },
    ]);
  }

  /**
   * Starts settlement. A chain started by this process begins empty: before
   * this resolves (and so before the server says it is ready) open test
   * tasks' escrows are moved to it and funded again and the funding wallet
   * is minted what the books hold, so a task posted at once can be funded
   * and accepted at once instead of after the first periodic sweep.
   */
  async start(context?: WorkerContext): Promise<void> {
    for (const chain of this.chains.all()) {
      await this.vouch(chain, Date.now());
      await this.queueApproval(chain);
    }
    const fresh = this.indexers.filter((indexer) => indexer.chain.inProcess);
    for (const indexer of fresh) {
      while (await indexer.step());
      await this.reconciler.sweep(indexer.chain, () => this.caughtUp(indexer));
    }
    await this.sender.start(context?.loop("sender", this.sender.leaseMs));
    this.running = true;
    // A step may take as long as a claimed outbox row's lease before its loop counts as stuck.
    for (const { loop, periodic, runAtStart } of this.schedules) periodic.start(context?.loop(loop, periodic.leaseMs(this.options.leaseMs)), runAtStart);
    if (fresh.length) await this.settled(fresh.map((indexer) => indexer.chain.key), START_SETTLE_MS);
  }

  wake(): void {
    this.sender.wake();
  }

  /** A MikroORM subscriber that wakes the outbox when a transaction of this process that queued a chain transaction commits. */
  commitHook(): EventSubscriber<ChainTx> {
    return afterCommitOf(ChainTx, () => true, () => this.wake());
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.sender.stop();
    await Promise.all(this.schedules.map(({ periodic }) => periodic.stop()));
    // An in-process chain ends with this process: its open escrows may move to another chain at once.
    for (const chain of this.chains.all()) if (chain.inProcess) await this.vouch(chain, 0);
  }

  /**
   * Resolves once nothing is left to send and every indexer has read up to
   * the chain's head (tests and benchmarks wait on it before comparing the
   * books with the chain).
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    if (!(await this.settled(this.indexers.map((indexer) => indexer.chain.key), timeoutMs))) {
      throw new Error(`chain settlement still busy after ${timeoutMs} ms`);
    }
  }

  /** Waits (bounded) until these chains' outbox rows are all done and their indexers have read up to the head; false on timeout. */
  private async settled(chainKeys: string[], timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const em = this.orm.em.fork();
    const indexers = this.indexers.filter((indexer) => chainKeys.includes(indexer.chain.key));
    for (;;) {
      const open = await em.count(ChainTx, { chainKey: { $in: chainKeys }, status: { $in: [...OPEN_TX_STATUSES] } });
      const behind = open ? [] : await Promise.all(indexers.map(async (indexer) => !(await this.caughtUp(indexer))));
      if (!open && !behind.some(Boolean)) return true;
      // Read the new blocks now rather than at the indexer's next tick.
      await Promise.all(indexers.filter((_indexer, i) => behind[i]).map((indexer) => this.catchUp(indexer)));
      if (Date.now() > until) {
        this.log.warn({ chains: chainKeys, open }, `chain settlement still busy after ${timeoutMs} ms`);
        return false;
      }
      this.sender.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async caughtUp(indexer: ChainIndexer): Promise<boolean> {
    return (await indexer.position()) >= (await indexer.chain.confirmedHead());
  }

  /**
   * Indexes what the chain has added, one run per indexer at a time (a call
   * during a run joins it); new blocks may hold receipts the outbox waits
   * for, so it is told.
   */
  private catchUp(indexer: ChainIndexer): Promise<void> {
    const running = this.catching.get(indexer);
    if (running) return running;
    const run = (async () => {
      const before = indexer.known;
      while (this.running && (await indexer.step()));
      if (indexer.known !== before) this.sender.newBlocks();
    })().finally(() => this.catching.delete(indexer));
    this.catching.set(indexer, run);
    return run;
  }

  /** Records that this process settles on `chain` (seenAt 0: no longer, the chain is gone). */
  private async vouch(chain: Chain, seenAt: number): Promise<void> {
    await this.orm.em
      .fork()
      .getConnection()
      .execute("insert into chain_instances (chain_key, seen_at) values (?, ?) on conflict (chain_key) do update set seen_at = excluded.seen_at", [chain.key, seenAt], "run");
  }

  /** On a configured chain the funding wallet must let TaskEscrow pull what it escrows (a local chain is approved at deployment). */
  private async queueApproval(chain: Chain): Promise<void> {
    if ((await chain.usdc.allowance(chain.rpc, chain.funder.address, chain.escrow.address)) >= MaxUint256 / 2n) return;
    const em = this.orm.em.fork();
    const intentKey = Intents.approve(chain.key, chain.funder.address);
    if (await em.count(ChainTx, { intentKey })) return;
    await em.persist(new ChainTx(chain.key, ChainTxKind.APPROVE, intentKey, chain.funder.address)).flush();
  }
}
