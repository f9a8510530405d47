import type { Em, Orm } from "../db/orm";
import { dialectOf } from "../db/dialect";
import type { Logger } from "../common/logger";
import type { Chain, Chains } from "../chain/chains";
import { describeRevert } from "../chain/contracts";
import { RpcError, toHex } from "../chain/rpc";
import { estimateGas, receiptOf, signCall, type Receipt } from "../chain/transactions";
import { ChainTx, ChainTxStatus } from "./chain-tx.entity";
import { LostRace, type OutboxEffects, type Plan } from "./outbox.effects";

export interface SenderOptions {
  /** How long a claimed row is held before another sender may take it (every step is a compare-and-set, so overlap is harmless). */
  leaseMs: number;
  /** Rows claimed per pass. */
  batch: number;
}

/** Messages nodes answer a re-broadcast with when they already have the transaction. */
const ALREADY_KNOWN = /already known|known transaction|already imported|already exists|alreadyknown/i;
/** The nonce is used: by this very transaction (mined), or by another (then this one can never land). */
const NONCE_USED = /nonce too low|nonce has already been used|nonce is too low|invalid nonce/i;
/** A lower nonce of the same key has not reached the node yet (automining nodes refuse to queue). */
const NONCE_GAP = /nonce too high|can't be queued|cannot be queued|nonce gap/i;

interface ClaimedRow {
  id: string | number;
}

/**
 * Sends the chain outbox. A pass claims due rows with a lease (`FOR UPDATE
 * SKIP LOCKED` on PostgreSQL), then drives each key's rows in nonce order:
 *
 *   PENDING ─check, simulate─▶ SIGNED ─broadcast─▶ SENT ─receipt─▶ MINED | REVERTED
 *
 * A nonce is taken, the transaction signed and its bytes and hash stored in
 * one database transaction before anything is broadcast; after a crash the
 * same bytes are broadcast again (harmless if already mined) or the receipt
 * found. A different transaction for the same intent is signed only once the
 * first provably cannot land: its nonce is used in a confirmed block by a
 * transaction that is not it. Every step is a compare-and-set on the row's
 * status, so two senders holding the same row cannot both sign or both apply.
 */
export class ChainSender {
  private running = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private rerun = false;

  constructor(
    private readonly orm: Orm,
    private readonly chains: Chains,
    private readonly effects: OutboxEffects,
    private readonly log: Logger,
    private readonly options: SenderOptions,
    private readonly onSettled: (row: ChainTx) => void,
  ) {}

  async start(): Promise<void> {
    for (const chain of this.chains.all()) await this.syncNonces(chain);
    this.running = true;
    this.schedule(0);
  }

  wake(): void {
    if (!this.running) return;
    if (this.pass) this.rerun = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pass;
  }

  /** Runs passes until nothing is due (tests and benchmarks use it to let the outbox drain). */
  async drain(): Promise<void> {
    while ((await this.runPass()) > 0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.running || this.pass) return;
      this.pass = this.runPass()
        .catch((err: unknown) => {
          this.log.error({ err }, "chain outbox pass failed");
          return 0;
        })
        .then((claimed) => {
          this.pass = undefined;
          if (!this.running) return;
          const again = claimed > 0 || this.rerun;
          this.rerun = false;
          this.schedule(again ? 0 : Math.min(...this.chains.all().map((c) => c.pollMs)));
        });
    }, delayMs);
    this.timer.unref();
  }

  private async runPass(): Promise<number> {
    const rows = await this.claim();
    const byKey = new Map<string, ChainTx[]>();
    for (const row of rows) byKey.set(`${row.chainKey}|${row.signer}`, [...(byKey.get(`${row.chainKey}|${row.signer}`) ?? []), row]);
    await Promise.all([...byKey.values()].map((group) => this.driveKey(group)));
    return rows.length;
  }

  /** One key's rows, one at a time: signed ones in nonce order first (so re-broadcasts arrive in order), then new ones oldest first. */
  private async driveKey(rows: ChainTx[]): Promise<void> {
    const ordered = [...rows].sort((a, b) => (a.nonce ?? Number.MAX_SAFE_INTEGER) - (b.nonce ?? Number.MAX_SAFE_INTEGER) || Number(a.id) - Number(b.id));
    for (const row of ordered) {
      try {
        await this.advance(row.id);
      } catch (err) {
        await this.recordFailure(row.id, err);
      }
    }
  }

  private async claim(): Promise<ChainTx[]> {
    const em = this.orm.em.fork();
    const now = Date.now();
    const lock = dialectOf(em.getPlatform()) === "postgresql" ? "for update skip locked" : "";
    const claimed = await em.getConnection().execute<ClaimedRow[]>(
      `update chain_txs set locked_until = ?
        where id in (
          select id from chain_txs
           where status in (?, ?, ?) and next_attempt_at <= ? and (locked_until is null or locked_until < ?)
           order by id
           limit ? ${lock})
        returning id`,
      [now + this.options.leaseMs, ChainTxStatus.PENDING, ChainTxStatus.SIGNED, ChainTxStatus.SENT, now, now, this.options.batch],
    );
    if (claimed.length === 0) return [];
    return em.find(ChainTx, { id: { $in: claimed.map((row) => String(row.id)) } });
  }

  private async advance(id: string): Promise<void> {
    let row = await this.load(id);
    const chain = this.chains.byKey(row.chainKey);
    if (!chain) {
      await this.update(id, { status: ChainTxStatus.FAILED, lastError: `chain deployment ${row.chainKey} is not configured in this process` });
      return;
    }
    if (row.status === ChainTxStatus.PENDING) {
      if (!(await this.sign(chain, row))) return;
      row = await this.load(id);
    }
    await this.track(chain, row);
  }

  /** Checks, simulates and signs a PENDING row. False when nothing was signed (waiting, skipped, failed). */
  private async sign(chain: Chain, row: ChainTx): Promise<boolean> {
    const em = this.orm.em.fork();
    const plan: Plan = await this.effects.plan(em, chain, row);
    if (plan.action === "wait") {
      await this.update(row.id, { nextAttemptAt: Date.now() + chain.pollMs, lastError: plan.reason, lockedUntil: null });
      return false;
    }
    if (plan.action === "fail") {
      await this.update(row.id, { status: ChainTxStatus.FAILED, lastError: plan.reason });
      this.log.error({ txId: row.id, kind: row.kind, reason: plan.reason }, "chain outbox row failed");
      return false;
    }
    if (plan.action === "skip") {
      await this.settle(row, async (tx) => {
        if ((await tx.nativeUpdate(ChainTx, { id: row.id, status: ChainTxStatus.PENDING }, { status: ChainTxStatus.SKIPPED, lastError: plan.reason, lockedUntil: null })) !== 1) throw new LostRace();
        await plan.apply?.(tx);
      });
      return false;
    }
    const wallet = chain.signer(row.signer);
    const [gasLimit, fees] = await Promise.all([estimateGas(chain.rpc, wallet.address, plan.call), chain.fees()]);
    await em.transactional(async (tx) => {
      const nonce = await this.allocateNonce(tx, chain.key, wallet.address);
      const signed = await signCall(wallet, chain.id, nonce, plan.call, { gasLimit, ...fees });
      const changed = await tx.nativeUpdate(
        ChainTx,
        { id: row.id, status: ChainTxStatus.PENDING },
        { status: ChainTxStatus.SIGNED, nonce, raw: signed.raw, txHash: signed.hash, toAddress: plan.call.to, data: plan.call.data, attempts: row.attempts + 1, failures: 0, lastError: null },
      );
      // Rolls the nonce back with the transaction: it was never used.
      if (changed !== 1) throw new LostRace();
    });
    return true;
  }

  /** A SIGNED or SENT row: broadcast (again) until a receipt with enough confirmations settles it. */
  private async track(chain: Chain, row: ChainTx): Promise<void> {
    let receipt = await receiptOf(chain.rpc, row.txHash!);
    if (!receipt) {
      const outcome = await this.broadcast(chain, row);
      if (row.status === ChainTxStatus.SIGNED) await this.update(row.id, { status: ChainTxStatus.SENT });
      receipt = await receiptOf(chain.rpc, row.txHash!);
      if (!receipt && outcome === "nonce-used" && (await this.cannotLand(chain, row))) {
        await this.resign(row, `nonce ${row.nonce} was used by another transaction of ${row.signer}; ${row.txHash} can never be mined`);
        return;
      }
    }
    if (!receipt || !(await chain.isConfirmed(Number(BigInt(receipt.blockNumber))))) {
      await this.update(row.id, { nextAttemptAt: Date.now() + chain.pollMs, lockedUntil: null });
      return;
    }
    await this.finalize(chain, row, receipt);
  }

  private async broadcast(chain: Chain, row: ChainTx): Promise<"sent" | "nonce-used"> {
    try {
      await chain.rpc.request("eth_sendRawTransaction", [row.raw]);
      return "sent";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (ALREADY_KNOWN.test(message)) return "sent";
      if (NONCE_USED.test(message)) return "nonce-used";
      if (NONCE_GAP.test(message)) throw new RpcError(`waiting for a lower nonce of ${row.signer} to reach the chain`);
      throw err;
    }
  }

  /** True only if the row's nonce is used in a confirmed block and the row's transaction has no receipt. */
  private async cannotLand(chain: Chain, row: ChainTx): Promise<boolean> {
    const confirmed = await chain.confirmedHead();
    const usedNonces = BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [row.signer, toHex(confirmed)]));
    return usedNonces > BigInt(row.nonce!) && !(await receiptOf(chain.rpc, row.txHash!));
  }

  /** Mined: the row's status and the outcome for the books commit together. */
  private async finalize(chain: Chain, row: ChainTx, receipt: Receipt): Promise<void> {
    const succeeded = receipt.status === "0x1";
    const reason = succeeded ? undefined : await this.revertReason(chain, row, receipt);
    await this.settle(row, async (tx) => {
      const changed = await tx.nativeUpdate(
        ChainTx,
        { id: row.id, status: { $in: [ChainTxStatus.SIGNED, ChainTxStatus.SENT] } },
        { status: succeeded ? ChainTxStatus.MINED : ChainTxStatus.REVERTED, blockNumber: Number(BigInt(receipt.blockNumber)), lockedUntil: null, lastError: reason ?? null },
      );
      if (changed !== 1) return;
      const current = await tx.findOneOrFail(ChainTx, row.id);
      if (succeeded) {
        await this.effects.mined(tx, chain, current, receipt);
      } else if ((await this.effects.reverted(tx, chain, current, reason!)) === "retry") {
        await tx.nativeUpdate(ChainTx, { id: row.id }, { ...this.unsigned(current), nextAttemptAt: Date.now() + this.backoffMs(current.attempts, chain) });
      }
    });
    if (!succeeded) this.log.warn({ txId: row.id, kind: row.kind, txHash: row.txHash, reason }, "chain transaction reverted");
  }

  /** Back to PENDING for a new nonce; the old hash is kept in the row's history. */
  private async resign(row: ChainTx, reason: string): Promise<void> {
    await this.update(row.id, { ...this.unsigned(row), lastError: reason });
    this.log.warn({ txId: row.id, kind: row.kind, txHash: row.txHash }, reason);
  }

  private unsigned(row: ChainTx): Partial<ChainTx> {
    return { status: ChainTxStatus.PENDING, nonce: null, raw: null, txHash: null, previousHashes: row.hashes, lockedUntil: null };
  }

  /** Runs a row's final step in one transaction, then tells whoever waits on it. */
  private async settle(row: ChainTx, step: (tx: Em) => Promise<void>): Promise<void> {
    try {
      await this.orm.em.fork().transactional(step);
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
    this.onSettled(row);
  }

  private async revertReason(chain: Chain, row: ChainTx, receipt: Receipt): Promise<string> {
    const block = toHex(Number(BigInt(receipt.blockNumber)) - 1);
    try {
      await chain.rpc.request("eth_call", [{ from: row.signer, to: row.toAddress, data: row.data }, block]);
      return "reverted (no reason given)";
    } catch (err) {
      return describeRevert((err as RpcError).revertData) ?? (err as Error).message.slice(0, 200);
    }
  }

  /** Takes the key's next nonce inside the caller's transaction (an atomic increment: safe between replicas). */
  private async allocateNonce(tx: Em, chainKey: string, address: string): Promise<number> {
    const rows = await tx
      .getConnection()
      .execute<Array<{ nonce: number | string }>>(
        "update chain_signers set next_nonce = next_nonce + 1 where chain_key = ? and address = ? returning next_nonce - 1 as nonce",
        [chainKey, address],
        "all",
        tx.getTransactionContext(),
      );
    if (rows.length !== 1) throw new Error(`no nonce record for ${address} on ${chainKey}`);
    return Number(rows[0].nonce);
  }

  /**
   * Records each platform key's next nonce on first use, and moves it forward
   * if the key was used outside HumanOps (those nonces are gone; a row signed
   * with one of them is re-signed once that is proven on chain).
   */
  private async syncNonces(chain: Chain): Promise<void> {
    const em = this.orm.em.fork();
    for (const address of new Set([chain.funder.address, chain.guardian.address])) {
      const onChain = Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [address, "pending"])));
      const connection = em.getConnection();
      await connection.execute("insert into chain_signers (chain_key, address, next_nonce) values (?, ?, ?) on conflict (chain_key, address) do nothing", [chain.key, address, onChain]);
      const moved = await connection.execute<{ affectedRows?: number }>(
        "update chain_signers set next_nonce = ? where chain_key = ? and address = ? and next_nonce < ?",
        [onChain, chain.key, address, onChain],
        "run",
      );
      if (moved.affectedRows) this.log.warn({ chainKey: chain.key, address, nonce: onChain }, "a platform key was used outside HumanOps; its nonce moved forward");
    }
  }

  private async recordFailure(id: string, err: unknown): Promise<void> {
    if (err instanceof LostRace) return this.update(id, { lockedUntil: null });
    const row = await this.load(id);
    const chain = this.chains.byKey(row.chainKey);
    const message = err instanceof RpcError ? (describeRevert(err.revertData) ?? err.message) : err instanceof Error ? err.message : String(err);
    const failures = row.failures + 1;
    await this.update(id, { failures, nextAttemptAt: Date.now() + this.backoffMs(failures, chain), lastError: message.slice(0, 2_000), lockedUntil: null });
    this.log.warn({ txId: id, kind: row.kind, status: row.status, err: message.slice(0, 500) }, "chain outbox step failed; will retry");
  }

  /** Exponential backoff with jitter from the chain's poll interval, capped at a minute. */
  private backoffMs(failures: number, chain: Chain | undefined): number {
    const base = chain?.pollMs ?? 1_000;
    return Math.round(Math.min(60_000, base * 2 ** Math.min(failures, 12)) * (0.5 + Math.random() / 2));
  }

  private async load(id: string): Promise<ChainTx> {
    return this.orm.em.fork().findOneOrFail(ChainTx, id);
  }

  private async update(id: string, values: Partial<ChainTx>): Promise<void> {
    await this.orm.em.fork().nativeUpdate(ChainTx, { id }, values);
  }
}
