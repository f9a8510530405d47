import { MaxUint256 } from "ethers";
import type { Orm } from "../db/orm";
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

export interface EscrowWorkerOptions {
  /** Lease on a claimed outbox row (CHAIN_LEASE_MS). */
  leaseMs: number;
  reconcileMs: number;
  /** Tells the rest of the process that an outcome committed (it may have queued jobs, e.g. the mock operator's). */
  committed: () => void;
}

/**
 * The background half of on-chain settlement, per process: the outbox
 * sender, one indexer per chain, and the periodic reconciliation sweep.
 */
export class EscrowWorkers {
  readonly sender: ChainSender;
  readonly reconciler: Reconciler;
  readonly indexers: ChainIndexer[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly loops = new Set<Promise<void>>();
  private running = false;

  constructor(
    private readonly orm: Orm,
    private readonly chains: Chains,
    services: Services,
    private readonly log: Logger,
    private readonly options: EscrowWorkerOptions,
  ) {
    const outcomes = new SettlementOutcomes(services.tasks, services.ledger, log);
    this.sender = new ChainSender(orm, chains, new OutboxEffects(outcomes), log, { leaseMs: options.leaseMs, batch: 64 }, (row) => {
      if (row.task) services.escrow.fundingSettled(row.task.id);
      options.committed();
    });
    // A chain nobody has vouched for in three sweeps is gone (its process died with it).
    this.reconciler = new Reconciler(orm, services.escrow, outcomes, services.deposits, 3 * options.reconcileMs);
    this.indexers = chains.all().map((chain) => new ChainIndexer(orm, chain, this.reconciler, log));
  }

  async start(): Promise<void> {
    for (const chain of this.chains.all()) {
      await this.vouch(chain, Date.now());
      await this.queueApproval(chain);
    }
    await this.sender.start();
    this.running = true;
    for (const indexer of this.indexers) this.every(Math.max(indexer.chain.pollMs * 4, 250), () => this.catchUp(indexer));
    for (const indexer of this.indexers) {
      const caughtUp = async () => (await indexer.position()) >= (await indexer.chain.confirmedHead());
      this.every(
        this.options.reconcileMs,
        async () => {
          await this.vouch(indexer.chain, Date.now());
          await this.reconciler.sweep(indexer.chain, caughtUp);
        },
        true,
      );
    }
  }

  wake(): void {
    this.sender.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.sender.stop();
    await Promise.allSettled([...this.loops]);
    // An in-process chain ends with this process: its open escrows may move to another chain at once.
    for (const chain of this.chains.all()) if (chain.inProcess) await this.vouch(chain, 0);
  }

  /**
   * Resolves once nothing is left to send and every indexer has read up to
   * the chain's head (tests and benchmarks wait on it before comparing the
   * books with the chain).
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const em = this.orm.em.fork();
    for (;;) {
      const open = await em.count(ChainTx, { status: { $in: [...OPEN_TX_STATUSES] } });
      const behind = open ? [] : await Promise.all(this.indexers.map(async (i) => (await i.position()) < (await i.chain.confirmedHead())));
      if (!open && !behind.some(Boolean)) return;
      if (Date.now() > until) throw new Error(`chain settlement still busy after ${timeoutMs} ms (${open} outbox row(s) open)`);
      this.sender.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private async catchUp(indexer: ChainIndexer): Promise<void> {
    while (this.running && (await indexer.step()));
  }

  /** Runs `work` every `ms` (first run at once when `now`), one run at a time; a failure is logged and retried next time. */
  private every(ms: number, work: () => Promise<void>, now = false): void {
    const run = () => {
      if (!this.running) return;
      const loop = work()
        .catch((err: unknown) => this.log.error({ err }, "chain settlement background step failed"))
        .finally(() => {
          this.loops.delete(loop);
          if (!this.running) return;
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            run();
          }, ms);
          timer.unref();
          this.timers.add(timer);
        });
      this.loops.add(loop);
    };
    if (now) run();
    else {
      const timer = setTimeout(run, ms);
      timer.unref();
      this.timers.add(timer);
    }
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
