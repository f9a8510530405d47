import { OptimisticLockError } from "@mikro-orm/core";
import type { Em, Orm } from "../db/orm";
import type { Logger } from "../common/logger";
import type { Chain } from "../chain/chains";
import { TaskEscrowContract, UsdcContract, type EscrowEvent, type Log, type Transfer } from "../chain/contracts";
import { toHex } from "../chain/rpc";
import { EventCursor } from "../db/event-cursor.entity";
import { ChainEvent } from "./chain-tx.entity";

/** Largest block range asked of the node in one eth_getLogs (public Base endpoints refuse much more). */
const MAX_RANGE = 2_000;
/** Steps in a row that may lose a row they wrote to another writer before the loss is an error. */
const MAX_LOST_WRITES = 5;

export interface ChainLogHandlers {
  /** Optional: reads at once what escrowEvent will read for each of a step's events (one statement, not one per event). */
  preload?(em: Em, chain: Chain, events: EscrowEvent[]): Promise<void>;
  escrowEvent(em: Em, chain: Chain, event: EscrowEvent, log: IndexedLog): Promise<void>;
  transferIn(em: Em, chain: Chain, transfer: Transfer, log: IndexedLog): Promise<void>;
}

export interface IndexedLog {
  txHash: string;
  logIndex: number;
  blockNumber: number;
}

/**
 * Follows a chain from a durable block cursor: TaskEscrow's settlement events
 * and USDC transfers into the funding wallet (deposits). Only blocks with the
 * chain's confirmation depth are read; each log is handled once (its
 * transaction hash and log index are unique in chain_events), in the same
 * database transaction that moves the cursor past it.
 */
export class ChainIndexer {
  private readonly cursorName: string;
  /** The cursor as this process last saw it: blocks up to it are handled, so an idle chain costs a head check and no SQL. */
  known?: number;
  /** Steps in a row rolled back by a lost compare-and-set on a row (see step). */
  private lostWrites = 0;

  constructor(
    private readonly orm: Orm,
    readonly chain: Chain,
    private readonly handlers: ChainLogHandlers,
    private readonly log: Logger,
  ) {
    this.cursorName = `chain:${chain.key}`;
  }

  /** Handles the next range of confirmed blocks; true if more remain. */
  async step(): Promise<boolean> {
    const safe = await this.chain.confirmedHead();
    if (this.known !== undefined && safe <= this.known) return false;
    const em = this.orm.em.fork();
    const cursor = await em.findOne(EventCursor, { name: this.cursorName });
    const from = cursor ? Number(cursor.position) + 1 : this.chain.deployBlock;
    this.known = from - 1;
    if (safe < from) return false;
    const to = Math.min(safe, from + MAX_RANGE - 1);
    const logs = await this.logs(from, to);
    let moved: boolean;
    try {
      moved = await em.transactional(async (tx) => {
        // The cursor moves first, as a compare-and-set: of two replicas indexing the same range, one commits and the other rolls back.
        const position = String(to);
        if (!cursor) await tx.persist(new EventCursor(this.cursorName, position)).flush();
        else if ((await tx.nativeUpdate(EventCursor, { name: this.cursorName, position: cursor.position }, { position, updatedAt: new Date() })) !== 1) return false;
        const handled = await this.handledOf(tx, logs);
        const fresh = logs.filter((log) => !handled.has(logKey(log.transactionHash, Number(BigInt(log.logIndex)))));
        const parsed = fresh.map((log) => ({ log, event: this.chain.escrow.parse(log) }));
        const events = parsed.map(({ event }) => event).filter((event) => event !== undefined);
        if (events.length) await this.handlers.preload?.(tx, this.chain, events);
        for (const { log, event } of parsed) await this.handle(tx, log, event);
        return true;
      });
    } catch (err) {
      // Another writer (the outbox settling the same escrow from its receipt, a command on its task) changed a row this step read
      // and wrote: nothing of the step committed, so the same range is handled again at once, against the rows as they are now.
      if (!(err instanceof OptimisticLockError) || ++this.lostWrites > MAX_LOST_WRITES) {
        this.lostWrites = 0;
        throw err;
      }
      this.log.debug({ chain: this.chain.key, from, to }, "a row the chain indexer wrote was changed meanwhile; handling the blocks again");
      return true;
    }
    this.lostWrites = 0;
    if (moved) this.known = to;
    return moved && to < safe;
  }

  /** The last block handled (blocks up to it are fully reconciled). */
  async position(): Promise<number> {
    const cursor = await this.orm.em.fork().findOne(EventCursor, { name: this.cursorName });
    return cursor ? Number(cursor.position) : this.chain.deployBlock - 1;
  }

  private async logs(from: number, to: number): Promise<Log[]> {
    const range = { fromBlock: toHex(from), toBlock: toHex(to) };
    const [escrow, deposits] = await Promise.all([
      this.chain.rpc.request<Log[]>("eth_getLogs", [{ ...range, address: this.chain.escrow.address, topics: [TaskEscrowContract.EVENT_TOPICS] }]),
      this.chain.rpc.request<Log[]>("eth_getLogs", [{ ...range, address: this.chain.usdc.address, topics: UsdcContract.transfersTo(this.chain.funder.address) }]),
    ]);
    const position = (log: Log) => [Number(BigInt(log.blockNumber)), Number(BigInt(log.logIndex))];
    return [...escrow, ...deposits].sort((a, b) => {
      const [blockA, indexA] = position(a);
      const [blockB, indexB] = position(b);
      return blockA - blockB || indexA - indexB;
    });
  }

  /** Which of these logs are handled already (in chain_events), in one statement. */
  private async handledOf(em: Em, logs: Log[]): Promise<Set<string>> {
    if (logs.length === 0) return new Set();
    const hashes = [...new Set(logs.map((log) => log.transactionHash))];
    const rows = await em.find(ChainEvent, { chainKey: this.chain.key, txHash: { $in: hashes } }, { fields: ["txHash", "logIndex"], disableIdentityMap: true });
    return new Set(rows.map((row) => logKey(row.txHash, row.logIndex)));
  }

  /** A log not handled yet (see handledOf), with its TaskEscrow event if it is one: recorded in chain_events and handed to its handler. */
  private async handle(em: Em, log: Log, event: EscrowEvent | undefined): Promise<void> {
    const indexed: IndexedLog = { txHash: log.transactionHash, logIndex: Number(BigInt(log.logIndex)), blockNumber: Number(BigInt(log.blockNumber)) };
    if (event) {
      em.persist(new ChainEvent(this.chain.key, indexed, event.name, stringArgs(event), event.taskId));
      await this.handlers.escrowEvent(em, this.chain, event, indexed);
      return;
    }
    const transfer = this.chain.usdc.parseTransfer(log);
    if (!transfer) {
      this.log.warn({ chainKey: this.chain.key, txHash: indexed.txHash }, "indexer skipped a log it cannot read");
      return;
    }
    em.persist(new ChainEvent(this.chain.key, indexed, "Transfer", stringArgs(transfer)));
    await this.handlers.transferIn(em, this.chain, transfer, indexed);
  }
}

const logKey = (txHash: string, logIndex: number) => `${txHash.toLowerCase()}:${logIndex}`;

function stringArgs(args: object): Record<string, string> {
  return Object.fromEntries(Object.entries(args).filter(([key]) => key !== "name").map(([key, value]) => [key, String(value)]));
}
