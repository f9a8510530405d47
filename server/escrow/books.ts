import type { Em } from "../db/orm";
import type { Chain } from "../chain/chains";
import type { Log } from "../chain/contracts";
import { TaskEscrowContract } from "../chain/contracts";
import { toHex } from "../chain/rpc";
import { LedgerKind } from "../ledger/ledger-entry.entity";
import { Accounts } from "../ledger/ledger.service";
import { ChainTxKind, ChainTxStatus, OPEN_TX_STATUSES } from "./chain-tx.entity";
import { EscrowStatus } from "./escrow.entity";

/** One total as the ledger has it and as the chain has it. */
export interface BookLine {
  ledger: bigint;
  chain: bigint;
}

/**
 * The ledger's totals for one chain beside the chain's own:
 * - escrow: money in escrow:* accounts of tasks on this deployment = TaskEscrow's USDC balance;
 * - wallet: agents' balances (+ unattributed deposits, + x402 refunds not yet paid back, + escrows not funded yet) = the funding wallet's USDC;
 * - payouts / fees: what the ledger paid operators / the treasury = TaskReleased payouts / fees on chain.
 * They agree whenever the chain's outbox is idle; in flight, a transfer may be mined before the books record it.
 */
export interface Books {
  escrow: BookLine;
  wallet: BookLine;
  payouts: BookLine;
  fees: BookLine;
}

export interface CompareOptions {
  /** Sum TaskReleased from the chain's logs themselves (from the deployment block) instead of the indexer's record of them. */
  scanChain?: boolean;
}

type Sum = { total: string | number | null };

export async function compareBooks(em: Em, chain: Chain, options: CompareOptions = {}): Promise<Books> {
  const sql = em.getConnection();
  const one = async (query: string, params: unknown[]) => BigInt((await sql.execute<Sum[]>(query, params))[0]?.total ?? 0);
  const onChain = `join escrows e on e.task_id = l.task_id and e.chain_key = ?`;
  const escrowLedger = await one(
    `select coalesce(sum(case when l.to_account like 'escrow:%' then l.amount else 0 end), 0) - coalesce(sum(case when l.from_account like 'escrow:%' then l.amount else 0 end), 0) as total
       from ledger_entries l ${onChain} where e.status <> ?`,
    [chain.key, EscrowStatus.FUNDING],
  );
  const notYetFunded = await one(
    `select coalesce(sum(case when l.to_account like 'escrow:%' then l.amount else 0 end), 0) - coalesce(sum(case when l.from_account like 'escrow:%' then l.amount else 0 end), 0) as total
       from ledger_entries l join tasks t on t.id = l.task_id left join escrows e on e.task_id = t.id
      where t.mode = ? and (e.id is null or e.status = ?)`,
    [chain.mode, EscrowStatus.FUNDING],
  );
  const balances = await one(
    `select coalesce(sum(case when to_account like 'agent:%' or to_account like 'payer:%' or to_account = ? then amount else 0 end), 0) - coalesce(sum(case when from_account like 'agent:%' or from_account like 'payer:%' or from_account = ? then amount else 0 end), 0) as total
       from ledger_entries where mode = ?`,
    [Accounts.unattributed, Accounts.unattributed, chain.mode],
  );
  const paid = (kind: LedgerKind) => one(`select coalesce(sum(l.amount), 0) as total from ledger_entries l ${onChain} where l.kind = ?`, [chain.key, kind]);
  const released = options.scanChain ? await releasedOnChain(chain) : await releasedIndexed(em, chain);
  return {
    escrow: { ledger: escrowLedger, chain: await chain.usdc.balanceOf(chain.rpc, chain.escrow.address) },
    wallet: { ledger: balances + notYetFunded, chain: await chain.usdc.balanceOf(chain.rpc, chain.funder.address) },
    payouts: { ledger: await paid(LedgerKind.PAYOUT), chain: released.payouts },
    fees: { ledger: await paid(LedgerKind.FEE), chain: released.fees },
  };
}

/**
 * A chain's outbox and the books at one moment: open and in-flight rows, the
 * newest posting and row, and what the funding wallet will receive once the
 * outbox has run: mints still to come, and escrows still to be refunded (a
 * cancelled or expired task's agent is refunded in the books at once, while
 * the chain returns the money only when the refund is mined).
 */
interface Activity {
  open: number;
  inFlight: number;
  queuedMints: bigint;
  queuedRefunds: bigint;
  lastEntry: string;
  lastTx: string;
}

async function activityOf(em: Em, chain: Chain): Promise<Activity> {
  const [row] = await em.getConnection().execute<Array<Record<"open" | "in_flight" | "queued_mints" | "queued_refunds" | "last_entry" | "last_tx", number | string | null>>>(
    `select (select count(*) from chain_txs where chain_key = ? and status in (?, ?, ?)) as open,
            (select count(*) from chain_txs where chain_key = ? and status in (?, ?)) as in_flight,
            (select coalesce(sum(amount), 0) from chain_txs where chain_key = ? and kind = ? and recipient = ? and status in (?, ?, ?)) as queued_mints,
            (select coalesce(sum(e.amount), 0) from chain_txs c join escrows e on e.task_id = c.task_id and e.chain_key = c.chain_key
              where c.chain_key = ? and c.kind = ? and c.status in (?, ?, ?) and e.status = ?) as queued_refunds,
            (select max(id) from ledger_entries) as last_entry,
            (select max(id) from chain_txs) as last_tx`,
    [
      ...[chain.key, ...OPEN_TX_STATUSES],
      ...[chain.key, ChainTxStatus.SIGNED, ChainTxStatus.SENT],
      ...[chain.key, ChainTxKind.MINT, chain.funder.address, ...OPEN_TX_STATUSES],
      ...[chain.key, ChainTxKind.REFUND, ...OPEN_TX_STATUSES, EscrowStatus.FUNDED],
    ],
  );
  return {
    open: Number(row.open),
    inFlight: Number(row.in_flight),
    queuedMints: BigInt(row.queued_mints ?? 0),
    queuedRefunds: BigInt(row.queued_refunds ?? 0),
    lastEntry: String(row.last_entry ?? 0),
    lastTx: String(row.last_tx ?? 0),
  };
}

function sameActivity(a: Activity, b: Activity): boolean {
  return a.open === b.open && a.inFlight === b.inFlight && a.queuedMints === b.queuedMints && a.queuedRefunds === b.queuedRefunds && a.lastEntry === b.lastEntry && a.lastTx === b.lastTx;
}

/**
 * The books beside the chain, read while nothing moved: null when a
 * transaction was in flight (signed, not yet recorded as mined) or when the
 * outbox or the ledger changed while the two sides were read, since a
 * transfer could then be on one side and not yet on the other. The two sides
 * cannot be read atomically; reading the outbox and the ledger before and
 * after is what makes the comparison mean something while HumanOps runs.
 */
export async function compareBooksAtRest(em: Em, chain: Chain, options: CompareOptions = {}): Promise<{ books: Books; activity: Activity } | null> {
  const activity = await activityOf(em, chain);
  if (activity.inFlight) return null;
  const books = await compareBooks(em, chain, options);
  return sameActivity(activity, await activityOf(em, chain)) ? { books, activity } : null;
}

async function releasedIndexed(em: Em, chain: Chain): Promise<{ payouts: bigint; fees: bigint }> {
  const events = await em.getConnection().execute<Array<{ args: string | Record<string, string> }>>(
    `select args from chain_events where chain_key = ? and name = 'TaskReleased'`,
    [chain.key],
  );
  return events
    .map((row) => (typeof row.args === "string" ? (JSON.parse(row.args) as Record<string, string>) : row.args))
    .reduce((sum, args) => ({ payouts: sum.payouts + BigInt(args.payout), fees: sum.fees + BigInt(args.fee) }), { payouts: 0n, fees: 0n });
}

async function releasedOnChain(chain: Chain): Promise<{ payouts: bigint; fees: bigint }> {
  const head = await chain.head();
  const topic = TaskEscrowContract.iface.getEvent("TaskReleased")!.topicHash;
  let totals = { payouts: 0n, fees: 0n };
  for (let from = chain.deployBlock; from <= head; from += 10_000) {
    const logs = await chain.rpc.request<Log[]>("eth_getLogs", [{ address: chain.escrow.address, topics: [topic], fromBlock: toHex(from), toBlock: toHex(Math.min(head, from + 9_999)) }]);
    for (const log of logs) {
      const event = chain.escrow.parse(log);
      if (event?.name === "TaskReleased") totals = { payouts: totals.payouts + event.payout, fees: totals.fees + event.fee };
    }
  }
  return totals;
}
