import type { Em, Orm } from "../db/orm";
import { dialectOf } from "../db/dialect";
import type { Logger } from "../common/logger";
import type { Chain, Chains } from "../chain/chains";
import { decodeRevert, describeRevert } from "../chain/contracts";
import { RpcError, toHex } from "../chain/rpc";
import { formatUnits, Transaction } from "ethers";
import { receiptOf, signCall, simulate, type Call, type Fees, type Receipt } from "../chain/transactions";
import { ChainTx, ChainTxStatus, type ChainTxKind } from "./chain-tx.entity";
import { LostRace, MAX_BATCH, type BatchEntry, type OutboxEffects, type Plan } from "./outbox.effects";
import { UNWATCHED, type Heartbeat } from "../jobs/worker.runtime";

export interface SenderOptions {
  /** How long a claimed row is held before another sender may take it (every step is a compare-and-set, so overlap is harmless). */
  leaseMs: number;
  /** Rows claimed per pass. */
  batch: number;
  /**
   * The longest the sender sleeps with nothing to do. It is woken when this
   * process commits a new row and when a chain has new blocks, and wakes
   * itself when a row it put off falls due; this pass finds rows written by
   * other replicas.
   */
  idleMs: number;
}

/** Messages nodes answer a re-broadcast with when they already have the transaction. */
const ALREADY_KNOWN = /already known|known transaction|already imported|already exists|alreadyknown/i;
/** The nonce is used: by this very transaction (mined), or by another (then this one can never land). */
const NONCE_USED = /nonce too low|nonce has already been used|nonce is too low|invalid nonce/i;
/** A lower nonce of the same key has not reached the node yet (automining nodes refuse to queue). */
const NONCE_GAP = /nonce too high|can't be queued|cannot be queued|nonce gap/i;

/** Rows to sign were moved on by another writer while they were signed: only `signed` were still PENDING (the signing is undone). */
class MovedOn extends Error {
  constructor(readonly signed: Set<string>) {
    super("an outbox row changed while it was signed");
    this.name = "MovedOn";
  }
}

/** A broadcast refused because a lower nonce of the key has not reached the node: a short wait, not a failure to back off from. */
class WaitingForLowerNonce extends Error {
  constructor(signer: string) {
    super(`waiting for a lower nonce of ${signer} to reach the chain`);
    this.name = "WaitingForLowerNonce";
  }
}

interface ClaimedRow {
  id: string | number;
}

/** A row ready to sign: its checked and simulated call, and its entry in a batch when it may go in one. */
interface Ready {
  row: ChainTx;
  call: Call;
  gasLimit: bigint;
  batch?: BatchEntry;
}

/** One transaction to sign: one row's call, or a batch of several rows' entries (`entries`). */
interface Unit {
  rows: ChainTx[];
  call: Call;
  gasLimit: bigint;
  entries?: Ready[];
}

/** A transaction broadcast in this pass (or found mined at its nonce before it was), with its rows (several for a batch). */
interface Broadcast {
  rows: ChainTx[];
  outcome: "sent" | "nonce-used" | "mined";
  receipt?: Receipt;
}

/**
 * Runs `step` in a savepoint of the caller's transaction (`name`), with an
 * EntityManager of its own (flushed before the savepoint is released): if
 * it throws, what it wrote is rolled back and the transaction goes on.
 * Entities it changed belong to its EntityManager, so nothing of a failed
 * step is flushed later by the caller's. Without a name, no savepoint: the
 * caller rolls its transaction back when the step throws.
 */
async function savepoint(tx: Em, name: string | undefined, step: (em: Em) => Promise<void>): Promise<void> {
  if (!name) {
    const em = tx.fork({ clear: true, keepTransactionContext: true });
    await step(em);
    return em.flush();
  }
  const run = (sql: string) => tx.getConnection().execute(sql, [], "run", tx.getTransactionContext());
  await run(`savepoint ${name}`);
  try {
    const em = tx.fork({ clear: true, keepTransactionContext: true });
    await step(em);
    await em.flush();
  } catch (err) {
    await run(`rollback to savepoint ${name}`);
    throw err;
  }
  await run(`release savepoint ${name}`);
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
 * transaction that is not it. A transaction priced under the base fee is
 * replaced at its own nonce with higher fees; whichever of the two is mined
 * settles the row. Every step is a compare-and-set on the row's
 * status, so two senders holding the same row cannot both sign or both apply.
 */
export class ChainSender {
  private running = false;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private rerun = false;
  /** When rows this sender put off (waiting, backing off, not yet confirmed) fall due. */
  private dues: number[] = [];
  /** A row waits for its transaction to be mined or confirmed: new blocks wake the sender. */
  private awaitingBlocks = false;
  private heartbeat: Heartbeat = UNWATCHED;

  constructor(
    private readonly orm: Orm,
    private readonly chains: Chains,
    private readonly effects: OutboxEffects,
    private readonly log: Logger,
    private readonly options: SenderOptions,
    private readonly onSettled: (row: ChainTx) => void,
  ) {}

  /** The longest a healthy sender goes between passes: an idle sleep plus a pass that holds its rows' lease. */
  get leaseMs(): number {
    return this.options.idleMs + this.options.leaseMs;
  }

  /** Starts sending; each pass beats `heartbeat` (kept from an earlier start when none is given). */
  async start(heartbeat: Heartbeat = this.heartbeat): Promise<void> {
    this.heartbeat = heartbeat;
    for (const chain of this.chains.all()) {
      await this.syncNonces(chain);
      await this.rebroadcastSigned(chain);
    }
    this.running = true;
    this.schedule(0);
  }

  wake(): void {
    if (!this.running) return;
    if (this.pass) this.rerun = true;
    else this.schedule(0);
  }

  /** A chain has new blocks: a row waiting for its receipt or confirmations is looked at now. */
  newBlocks(): void {
    if (!this.awaitingBlocks) return;
    this.awaitingBlocks = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pass;
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
          this.heartbeat.beat();
          if (!this.running) return;
          // A full batch may have left rows behind; otherwise what this pass put off has its wake-up (dues, new blocks, commits).
          const again = claimed >= this.options.batch || this.rerun;
          this.rerun = false;
          this.schedule(again ? 0 : this.sleepMs());
        });
    }, delayMs);
    this.timer.unref();
  }

  /** Until the earliest row this sender put off falls due, at most `idleMs`. */
  private sleepMs(): number {
    const now = Date.now();
    return Math.max(0, this.dues.reduce((soonest, at) => Math.min(soonest, at - now), this.options.idleMs));
  }

  private async runPass(): Promise<number> {
    // Rows due by now are this pass's to claim; later ones keep their wake-up.
    const now = Date.now();
    this.dues = this.dues.filter((at) => at > now);
    const rows = await this.claim();
    const byKey = new Map<string, ChainTx[]>();
    for (const row of rows) byKey.set(`${row.chainKey}|${row.signer}`, [...(byKey.get(`${row.chainKey}|${row.signer}`) ?? []), row]);
    await Promise.all([...byKey.values()].map((group) => this.driveKey(group).catch((err: unknown) => this.recordFailures(group, err))));
    return rows.length;
  }

  /**
   * One key's rows, in three steps. Rows already signed go first, in nonce
   * order, so that re-broadcasts reach the node in order; new rows are
   * checked and simulated side by side, signed together with consecutive
   * nonces in one database transaction, and follow them. Then every row is
   * broadcast, in nonce order, without waiting for any receipt; then the
   * receipts are asked for together; and the rows mined with their
   * confirmations are settled together, in one database transaction with a
   * savepoint per row (finalizeMined).
   */
  private async driveKey(rows: ChainTx[]): Promise<void> {
    const chain = this.chains.byKey(rows[0].chainKey)!;
    const signed = rows.filter((row) => row.status !== ChainTxStatus.PENDING).sort((a, b) => a.nonce! - b.nonce!);
    const fresh = await this.signNew(chain, rows.filter((row) => row.status === ChainTxStatus.PENDING));
    const broadcast: Broadcast[] = [];
    for (const group of byTransaction([...signed, ...fresh])) {
      await this.steps(group, async () => {
        const sent = await this.send(chain, group, fresh.includes(group[0]));
        if (sent) broadcast.push(sent);
      });
    }
    const receipts = await Promise.all(broadcast.map((sent) => this.receiptFor(chain, sent).catch(async (err: unknown) => void (await this.recordFailures(sent.rows, err)))));
    const mined: Array<{ row: ChainTx; receipt: Receipt }> = [];
    for (const [i, receipt] of receipts.entries()) {
      if (receipt) mined.push(...broadcast[i].rows.map((row) => ({ row, receipt })));
      else if (receipt === null) for (const row of broadcast[i].rows) await this.steps([row], () => this.awaitReceipt(chain, row));
    }
    if (mined.length) await this.finalizeMined(chain, mined);
  }

  /** A step for a row, or for all the rows of one transaction: if it throws, each row records the failure. */
  private async steps(rows: ChainTx[], work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      await this.recordFailures(rows, err);
    }
  }

  private async recordFailures(rows: ChainTx[], err: unknown): Promise<void> {
    for (const row of rows) await this.recordFailure(row.id, err);
  }

  private async claim(): Promise<ChainTx[]> {
    const em = this.orm.em.fork();
    const now = Date.now();
    const lock = dialectOf(em.getPlatform()) === "postgresql" ? "for update skip locked" : "";
    // Only this process's chains: a replica with its own in-process chain leaves the others' rows to them.
    const keys = this.chains.all().map((chain) => chain.key);
    // Every column comes back with the claim, so the rows are not read again.
    const claimed = await em.getConnection().execute<Array<Record<string, unknown>>>(
      `update chain_txs set locked_until = ?
        where id in (
          select id from chain_txs
           where status in (?, ?, ?) and chain_key in (${keys.map(() => "?").join(", ")}) and next_attempt_at <= ? and (locked_until is null or locked_until < ?)
           order by id
           limit ? ${lock})
        returning *`,
      [now + this.options.leaseMs, ChainTxStatus.PENDING, ChainTxStatus.SIGNED, ChainTxStatus.SENT, ...keys, now, now, this.options.batch],
    );
    return claimed.map((row) => em.map(ChainTx, row)).sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Checks and simulates new rows, then signs those to send; returns them as
   * signed, in nonce order. Fundings and releases ready together go out as
   * one TaskEscrow batch (fundBatch, releaseBatch) when there are several:
   * one nonce and one transaction, whose bytes and hash every row of the
   * batch stores.
   */
  private async signNew(chain: Chain, rows: ChainTx[]): Promise<ChainTx[]> {
    const ready: Ready[] = [];
    await Promise.all(
      rows.map((row) =>
        this.steps([row], async () => {
          const prepared = await this.prepare(chain, row);
          if (prepared) ready.push({ row, ...prepared });
        }),
      ),
    );
    if (ready.length === 0) return [];
    ready.sort((a, b) => Number(a.row.id) - Number(b.row.id));
    const fees = await chain.fees();
    if (fees.baseFeePerGas > chain.maxFeePerGas) {
      // Nothing could be included at a price HumanOps pays: no nonce is spent until the base fee falls.
      const reason = `the base fee (${formatGwei(fees.baseFeePerGas)} gwei) is above CHAIN_MAX_FEE_GWEI (${formatGwei(chain.maxFeePerGas)} gwei); waiting for it to fall`;
      for (const { row } of ready) await this.update(row.id, { nextAttemptAt: Date.now() + this.backoffMs(row.failures + 1, chain), lastError: reason, lockedUntil: null });
      this.log.warn({ chainKey: chain.key, rows: ready.length, baseFeePerGas: String(fees.baseFeePerGas), maxFeePerGas: String(chain.maxFeePerGas) }, "chain transactions held back: the base fee is above the cap");
      return [];
    }
    const wallet = chain.signer(ready[0].row.signer);
    let going = await this.batched(chain, ready);
    for (;;) {
      try {
        return await this.orm.em.fork().transactional(async (tx) => {
          if (going.length === 0) return [];
          const first = await this.allocateNonces(tx, chain.key, wallet.address, going.length);
          const signings = await Promise.all(
            going.map(async ({ rows: unitRows, call, gasLimit }, i) => {
              const transaction = await signCall(wallet, chain.id, first + i, call, { gasLimit, ...fees });
              return unitRows.map((row) => ({ row, values: { nonce: first + i, raw: transaction.raw, txHash: transaction.hash, toAddress: call.to, data: call.data, attempts: row.attempts + 1, failures: 0, lastError: null } }));
            }),
          );
          const stored = signings.flat();
          // PENDING → SIGNED with the signing, as a compare-and-set: a row another writer changed meanwhile (a refund calling its funding
          // off) undoes the whole transaction, nonces included, and the rest are signed again without it, so it costs no nonce.
          const signed = await this.storeSignings(tx, stored.map(({ row, values }) => ({ id: row.id, ...values })));
          if (signed.size < stored.length) throw new MovedOn(signed);
          return stored.map(({ row, values }) => Object.assign(row, values, { status: ChainTxStatus.SIGNED }));
        });
      } catch (err) {
        if (!(err instanceof MovedOn)) throw err;
        const claimed = err.signed;
        const before = going.reduce((rows, unit) => rows + unit.rows.length, 0);
        going = going.map((unit) => this.narrowed(chain, unit, claimed)).filter((unit) => unit !== undefined);
        // Each round drops at least one row, so the rounds end; a round that dropped none would sign the same rows for ever.
        if (going.reduce((rows, unit) => rows + unit.rows.length, 0) >= before) throw new Error("rows to sign moved on, but none dropped out of the signing");
      }
    }
  }

  /**
   * The transactions to sign for rows ready to send, in the order of their
   * first rows: several rows' batch entries of one kind become one batch,
   * when the batch's simulation passes (each row's own passed already); the
   * rest go alone. A row sent before (a batch or a call that reverted, a
   * nonce lost) goes alone, so the chain's error names its task.
   */
  private async batched(chain: Chain, ready: Ready[]): Promise<Unit[]> {
    const units: Unit[] = [];
    const groups = new Map<ChainTxKind, Ready[]>();
    for (const item of ready) {
      if (item.batch && item.row.attempts === 0) groups.set(item.batch.kind, [...(groups.get(item.batch.kind) ?? []), item]);
      else units.push({ rows: [item.row], call: item.call, gasLimit: item.gasLimit });
    }
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += MAX_BATCH) {
        const chunk = group.slice(i, i + MAX_BATCH);
        units.push(...(await this.batchOf(chain, chunk)));
      }
    }
    return units.sort((a, b) => Number(a.rows[0].id) - Number(b.rows[0].id));
  }

  /** One batch of these rows, if it simulates; else each row alone (a refusal of the whole is not any one row's failure). */
  private async batchOf(chain: Chain, items: Ready[]): Promise<Unit[]> {
    const alone = () => items.map((item) => ({ rows: [item.row], call: item.call, gasLimit: item.gasLimit }));
    if (items.length < 2) return alone();
    const { call, gasLimit } = this.effects.batchCall(chain, items.map((item) => item.batch!));
    try {
      await simulate(chain.rpc, items[0].row.signer, call);
    } catch (err) {
      const revert = err instanceof RpcError ? describeRevert(err.revertData) : undefined;
      this.log.info({ chainKey: chain.key, rows: items.length, reason: revert ?? (err instanceof Error ? err.message.slice(0, 200) : String(err)) }, "a batch did not simulate; its rows are sent one by one");
      return alone();
    }
    return [{ rows: items.map((item) => item.row), call, gasLimit, entries: items }];
  }

  /** A unit without the rows another writer moved on before they were marked SIGNED (a batch of one left is a single call). */
  private narrowed(chain: Chain, unit: Unit, claimed: Set<string>): Unit | undefined {
    const rows = unit.rows.filter((row) => claimed.has(String(row.id)));
    if (rows.length === unit.rows.length) return unit;
    if (rows.length === 0) return undefined;
    const entries = unit.entries!.filter((item) => claimed.has(String(item.row.id)));
    if (entries.length === 1) return { rows, call: entries[0].call, gasLimit: entries[0].gasLimit };
    return { rows, ...this.effects.batchCall(chain, entries.map((item) => item.batch!)), entries };
  }

  /**
   * PENDING → SIGNED with each row's signing (its nonce, bytes and hash, what it calls), all rows in one statement;
   * the ids it changed (a row another writer moved on is left out).
   */
  private async storeSignings(tx: Em, rows: Array<{ id: string; nonce: number; raw: string; txHash: string; toAddress?: string; data: string }>): Promise<Set<string>> {
    const ids = rows.map((row) => row.id);
    const column = (name: string, value: (row: (typeof rows)[number]) => string | number | null, cast = "") => ({
      sql: `${name} = case id ${rows.map(() => (cast ? `when ? then cast(? as ${cast})` : "when ? then ?")).join(" ")} end`,
      params: rows.flatMap((row) => [row.id, value(row)]),
    });
    const columns = [
      column("nonce", (row) => row.nonce, "integer"),
      column("raw", (row) => row.raw),
      column("tx_hash", (row) => row.txHash),
      column("to_address", (row) => row.toAddress ?? null),
      column("data", (row) => row.data),
    ];
    const changed = await tx
      .getConnection()
      .execute<ClaimedRow[]>(
        `update chain_txs set status = ?, ${columns.map((c) => c.sql).join(", ")}, attempts = attempts + 1, failures = 0, last_error = null where status = ? and id in (${ids.map(() => "?").join(", ")}) returning id`,
        [ChainTxStatus.SIGNED, ...columns.flatMap((c) => c.params), ChainTxStatus.PENDING, ...ids],
        "all",
        tx.getTransactionContext(),
      );
    return new Set(changed.map((row) => String(row.id)));
  }

  /** What to send for a PENDING row, after its checks and simulation; undefined when there is nothing to send now (waiting, skipped, failed). */
  private async prepare(chain: Chain, row: ChainTx): Promise<Omit<Ready, "row"> | undefined> {
    let plan: Plan = await this.effects.plan(this.orm.em.fork(), chain, row);
    if (plan.action === "send") {
      const simulated = await this.simulate(chain, row, plan);
      if (typeof simulated === "bigint") return { call: plan.call, gasLimit: simulated, batch: plan.batch };
      plan = simulated;
    }
    if (plan.action === "wait") {
      await this.update(row.id, { nextAttemptAt: Date.now() + chain.pollMs, lastError: plan.reason, lockedUntil: null });
    } else if (plan.action === "fail") {
      await this.update(row.id, { status: ChainTxStatus.FAILED, lastError: plan.reason, lockedUntil: null });
      this.log.error({ txId: row.id, kind: row.kind, reason: plan.reason }, "chain outbox row failed");
    } else if (plan.action === "skip") {
      const { reason, apply } = plan;
      await this.settle(row, async (tx) => {
        if ((await tx.nativeUpdate(ChainTx, { id: row.id, status: ChainTxStatus.PENDING }, { status: ChainTxStatus.SKIPPED, lastError: reason, lockedUntil: null })) !== 1) throw new LostRace();
        await apply?.(tx);
      });
    }
    return undefined;
  }

  /** The gas limit for a send, or the plan an expected revert of the simulation stands for (other reverts throw: backoff). */
  private async simulate(chain: Chain, row: ChainTx, plan: Extract<Plan, { action: "send" }>): Promise<bigint | Plan> {
    try {
      await simulate(chain.rpc, row.signer, plan.call);
      return plan.gasLimit;
    } catch (err) {
      const expected = err instanceof RpcError ? plan.onRevert?.[decodeRevert(err.revertData)?.name ?? ""] : undefined;
      if (expected) return expected;
      throw err;
    }
  }

  /**
   * A SIGNED or SENT row's broadcast (again): what was sent, or its receipt
   * when it was mined already; undefined when the row's step ended here
   * (replaced with higher fees at its nonce).
   */
  private async send(chain: Chain, rows: ChainTx[], justSigned: boolean): Promise<Broadcast | undefined> {
    const [row] = rows;
    // A row signed in this pass cannot have been mined; one signed before may have been broadcast before a crash.
    if (!justSigned) {
      const receipt = await this.minedAtNonce(chain, row);
      if (receipt) return { rows, outcome: "mined", receipt };
      const underpriced = await this.underpriced(chain, row);
      if (underpriced) {
        await this.replace(chain, row, underpriced);
        return undefined;
      }
    }
    return { rows, outcome: await this.broadcast(chain, row) };
  }

  /**
   * The receipt of a broadcast row once it has its confirmations; null while
   * it waits for them (or to be mined); undefined when the row was re-signed
   * (its nonce went to another transaction).
   */
  private async receiptFor(chain: Chain, sent: Broadcast): Promise<Receipt | null | undefined> {
    const [row] = sent.rows;
    const receipt = sent.receipt ?? (await this.minedAtNonce(chain, row));
    if (!receipt && sent.outcome === "nonce-used" && (await this.cannotLand(chain, row))) {
      for (const each of sent.rows) await this.steps([each], () => this.resign(each, `nonce ${each.nonce} was used by another transaction of ${each.signer}; ${each.txHash} can never be mined`));
      return undefined;
    }
    if (!receipt || !(await chain.isConfirmed(Number(BigInt(receipt.blockNumber))))) return null;
    return receipt;
  }

  /** Broadcast (SENT), waiting for the receipt or its confirmations: one write. A row mined at once goes from SIGNED straight to MINED. */
  private async awaitReceipt(chain: Chain, row: ChainTx): Promise<void> {
    const nextAttemptAt = Date.now() + chain.pollMs;
    if (row.status === ChainTxStatus.SIGNED) {
      await this.compareAndSet(row, [ChainTxStatus.SIGNED], { status: ChainTxStatus.SENT, nextAttemptAt, lockedUntil: null });
      row.status = ChainTxStatus.SENT;
    } else {
      await this.update(row.id, { nextAttemptAt, lockedUntil: null });
    }
    this.awaitingBlocks = true;
  }

  /**
   * The receipt of whichever signing of the row at its nonce was mined: the
   * latest, or one it replaced (a replacement can lose the race to the
   * transaction it replaced). Earlier signings at other nonces (reverted, or
   * proven unable to land) are not this nonce's.
   */
  private async minedAtNonce(chain: Chain, row: ChainTx): Promise<Receipt | null> {
    const latest = await receiptOf(chain.rpc, row.txHash!);
    if (latest) return latest;
    for (const hash of row.previousHashes) {
      const tx = await chain.rpc.request<{ nonce: string; blockNumber: string | null } | null>("eth_getTransactionByHash", [hash]);
      if (tx?.blockNumber && Number(BigInt(tx.nonce)) === row.nonce) return receiptOf(chain.rpc, hash);
    }
    return null;
  }

  /**
   * Fees to replace the row's transaction with when its fee cap is below the
   * latest block's base fee (it cannot be included while that lasts, and every
   * later nonce of the key waits behind it): today's fees, and at least 1/8
   * above the old ones, which nodes require of a replacement.
   */
  private async underpriced(chain: Chain, row: ChainTx): Promise<(Fees & { gasLimit: bigint }) | undefined> {
    const sent = Transaction.from(row.raw!);
    const now = await chain.fees();
    // Above the cap a replacement could not be included either: the old one waits, rebroadcast, for the base fee to fall.
    if (sent.maxFeePerGas! >= now.baseFeePerGas || now.baseFeePerGas > chain.maxFeePerGas) return undefined;
    const bumped = (old: bigint, fresh: bigint) => (fresh > old + old / 8n ? fresh : old + old / 8n + 1n);
    const maxPriorityFeePerGas = bumped(sent.maxPriorityFeePerGas!, now.maxPriorityFeePerGas);
    const maxFeePerGas = bumped(sent.maxFeePerGas!, now.maxFeePerGas);
    if (maxFeePerGas > chain.maxFeePerGas || maxPriorityFeePerGas > maxFeePerGas) return undefined;
    return { maxFeePerGas, maxPriorityFeePerGas, baseFeePerGas: now.baseFeePerGas, gasLimit: sent.gasLimit };
  }

  /**
   * Signs the same call again at the same nonce with `fees`, keeping the old
   * hash: one of the two can be mined, never both, and whichever is settles
   * the row (minedAtNonce). Stored before it is broadcast, like any signing.
   */
  private async replace(chain: Chain, row: ChainTx, fees: Fees & { gasLimit: bigint }): Promise<void> {
    const replacement = await signCall(chain.signer(row.signer), chain.id, row.nonce!, { to: row.toAddress!, data: row.data! }, fees);
    // Every row of a batch holds the same signing: all of them take the replacement.
    const changed = await this.orm.em.fork().nativeUpdate(
      ChainTx,
      { txHash: row.txHash, status: { $in: [ChainTxStatus.SIGNED, ChainTxStatus.SENT] } },
      { raw: replacement.raw, txHash: replacement.hash, previousHashes: row.hashes, status: ChainTxStatus.SIGNED, lockedUntil: null, nextAttemptAt: Date.now() },
    );
    if (changed < 1) throw new LostRace();
    this.dueAt(Date.now());
    this.log.warn(
      { txId: row.id, kind: row.kind, nonce: row.nonce, replaced: row.txHash, txHash: replacement.hash, maxFeePerGas: String(fees.maxFeePerGas), baseFeePerGas: String(fees.baseFeePerGas) },
      "chain transaction priced under the base fee; replaced at the same nonce with higher fees",
    );
  }

  private async broadcast(chain: Chain, row: ChainTx): Promise<"sent" | "nonce-used"> {
    try {
      await chain.rpc.request("eth_sendRawTransaction", [row.raw]);
      return "sent";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (ALREADY_KNOWN.test(message)) return "sent";
      if (NONCE_USED.test(message)) return "nonce-used";
      if (NONCE_GAP.test(message)) throw new WaitingForLowerNonce(row.signer);
      throw err;
    }
  }

  /** True only if the row's nonce is used in a confirmed block and none of the row's signings at that nonce has a receipt. */
  private async cannotLand(chain: Chain, row: ChainTx): Promise<boolean> {
    const confirmed = await chain.confirmedHead();
    const usedNonces = BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [row.signer, toHex(confirmed)]));
    return usedNonces > BigInt(row.nonce!) && !(await this.minedAtNonce(chain, row));
  }

  /**
   * Mined rows: each row's status and its outcome for the books commit
   * together, and all of a pass's rows in one database transaction, each in
   * a savepoint of its own: a row whose step fails (or that another sender
   * moved on) is rolled back to its savepoint alone, and the others commit.
   */
  private async finalizeMined(chain: Chain, mined: Array<{ row: ChainTx; receipt: Receipt }>): Promise<void> {
    // Reasons are read from the node before the transaction, so it holds no lock while waiting on the network; once per
    // transaction, as every row of a batch has the same call and receipt.
    const reasonOf = new Map<string, Promise<string>>();
    const reasons = await Promise.all(
      mined.map(async ({ row, receipt }) => {
        if (receipt.status === "0x1") return undefined;
        if (!reasonOf.has(receipt.transactionHash)) reasonOf.set(receipt.transactionHash, this.revertReason(chain, row, receipt));
        return reasonOf.get(receipt.transactionHash);
      }),
    );
    const failed = new Map<string, unknown>();
    const retries: number[] = [];
    // A row settled alone needs no savepoint: its failure rolls the transaction back.
    const alone = mined.length === 1;
    try {
      await this.orm.em.fork().transactional(async (tx) => {
        for (const [i, { row, receipt }] of mined.entries()) {
          try {
            await savepoint(tx, alone ? undefined : `row_${i}`, (em) => this.applyReceipt(em, chain, row, receipt, reasons[i], retries));
          } catch (err) {
            if (alone) throw err;
            if (!(err instanceof LostRace)) failed.set(row.id, err);
          }
        }
      });
    } catch (err) {
      // The transaction failed (the one row's step, a conflict at commit, the database gone): no row of it settled.
      retries.length = 0;
      if (!(err instanceof LostRace)) for (const { row } of mined) failed.set(row.id, err);
    }
    for (const at of retries) this.dueAt(at);
    for (const [i, { row }] of mined.entries()) {
      if (failed.has(row.id)) {
        await this.recordFailure(row.id, failed.get(row.id));
        continue;
      }
      if (reasons[i] !== undefined) this.log.warn({ txId: row.id, kind: row.kind, txHash: row.txHash, reason: reasons[i] }, "chain transaction reverted");
      this.onSettled(row);
    }
  }

  /** One mined row inside the pass's transaction: a compare-and-set on the signing this sender knows of, then the outcome for the books. */
  private async applyReceipt(tx: Em, chain: Chain, row: ChainTx, receipt: Receipt, reason: string | undefined, retries: number[]): Promise<void> {
    const succeeded = receipt.status === "0x1";
    // A replaced signing was mined: it becomes the row's transaction, the replacement its history.
    const replaced = receipt.transactionHash === row.txHash ? {} : { txHash: receipt.transactionHash, raw: null, previousHashes: row.hashes.filter((hash) => hash !== receipt.transactionHash) };
    const status = succeeded ? ChainTxStatus.MINED : ChainTxStatus.REVERTED;
    // Another sender that replaced or re-signed the row since changed its hash: then nothing here is this sender's to apply.
    const changed = await tx.nativeUpdate(
      ChainTx,
      { id: row.id, txHash: row.txHash, status: { $in: [ChainTxStatus.SIGNED, ChainTxStatus.SENT] } },
      { status, blockNumber: Number(BigInt(receipt.blockNumber)), lockedUntil: null, lastError: reason ?? null, ...replaced },
    );
    if (changed !== 1) throw new LostRace();
    const current = Object.assign(row, { status, ...replaced });
    if (succeeded) {
      await this.effects.mined(tx, chain, current, receipt);
    } else if ((await this.effects.reverted(tx, chain, current, reason!)) === "retry") {
      const nextAttemptAt = Date.now() + this.backoffMs(current.attempts, chain);
      await tx.nativeUpdate(ChainTx, { id: row.id }, { ...this.unsigned(current), nextAttemptAt });
      retries.push(nextAttemptAt);
    }
  }

  /** Back to PENDING for a new nonce; the old hash is kept in the row's history. */
  private async resign(row: ChainTx, reason: string): Promise<void> {
    await this.compareAndSet(row, [ChainTxStatus.SIGNED, ChainTxStatus.SENT], { ...this.unsigned(row), lastError: reason });
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

  /** Takes `count` consecutive nonces of the key inside the caller's transaction (an atomic increment: safe between replicas); returns the first. */
  private async allocateNonces(tx: Em, chainKey: string, address: string, count: number): Promise<number> {
    const rows = await tx
      .getConnection()
      .execute<Array<{ nonce: number | string }>>(
        "update chain_signers set next_nonce = next_nonce + ? where chain_key = ? and address = ? returning next_nonce - ? as nonce",
        [count, chainKey, address, count],
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

  /**
   * After a crash the dead process's signed transactions may never have
   * reached the node, and every later nonce of their keys waits behind them;
   * their rows stay leased to the dead process until the lease runs out. Their
   * stored bytes are broadcast again at start, in nonce order, without taking
   * the rows (the same bytes: harmless if known or mined), so the chain moves
   * at once and the indexer books what is mined.
   */
  private async rebroadcastSigned(chain: Chain): Promise<void> {
    const rows = await this.orm.em
      .fork()
      .find(ChainTx, { chainKey: chain.key, status: { $in: [ChainTxStatus.SIGNED, ChainTxStatus.SENT] }, raw: { $ne: null } }, { orderBy: { signer: "asc", nonce: "asc" } });
    const mined = new Map<string, number>();
    const sent = new Set<string>();
    for (const row of rows) {
      // The rows of a batch share one transaction: broadcast once.
      if (sent.has(row.txHash!)) continue;
      sent.add(row.txHash!);
      if (!mined.has(row.signer)) mined.set(row.signer, Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [row.signer, "latest"]))));
      if (row.nonce! < mined.get(row.signer)!) continue;
      try {
        await chain.rpc.request("eth_sendRawTransaction", [row.raw]);
      } catch {
        // Known already, its nonce used, or priced out: the row's own steps deal with it once it is claimed.
      }
    }
    if (rows.length) this.log.info({ chainKey: chain.key, rows: rows.length }, "signed chain transactions broadcast again at start");
  }

  private async recordFailure(id: string, err: unknown): Promise<void> {
    if (err instanceof LostRace) return this.update(id, { lockedUntil: null });
    const row = await this.load(id);
    const chain = this.chains.byKey(row.chainKey);
    // Soon tried again, and without counting as a failure: the lower nonce is usually a moment away (a row another sender is broadcasting).
    if (err instanceof WaitingForLowerNonce) return this.update(id, { nextAttemptAt: Date.now() + (chain?.pollMs ?? 1_000), lastError: err.message, lockedUntil: null });
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

  /** Changes a signed row only if it still holds the signing this sender knows of (else LostRace: another sender moved it on). */
  private async compareAndSet(row: ChainTx, statuses: ChainTxStatus[], values: Partial<ChainTx>): Promise<void> {
    const changed = await this.orm.em.fork().nativeUpdate(ChainTx, { id: row.id, txHash: row.txHash, status: { $in: statuses } }, values);
    if (changed !== 1) throw new LostRace();
    if (values.nextAttemptAt !== undefined) this.dueAt(values.nextAttemptAt);
  }

  private async update(id: string, values: Partial<ChainTx>): Promise<void> {
    await this.orm.em.fork().nativeUpdate(ChainTx, { id }, values);
    if (values.nextAttemptAt !== undefined) this.dueAt(values.nextAttemptAt);
  }

  private dueAt(at: number): void {
    this.dues.push(at);
  }
}

/** Rows in order, those holding one signed transaction (a batch) together. */
function byTransaction(rows: ChainTx[]): ChainTx[][] {
  const groups = new Map<string, ChainTx[]>();
  for (const row of rows) {
    const key = row.txHash ?? `row:${row.id}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()];
}

function formatGwei(wei: bigint): string {
  return formatUnits(wei, "gwei").replace(/\.0$/, "");
}
