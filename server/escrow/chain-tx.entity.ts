import { BigIntType, Entity, Enum, Index, JsonType, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Task } from "../tasks/task.entity";

export enum ChainTxKind {
  /** TestUSDC minted to the funding wallet: backs test money credited in the ledger. */
  MINT = "MINT",
  /** The funding wallet lets TaskEscrow pull what it escrows. */
  APPROVE = "APPROVE",
  FUND = "FUND",
  RELEASE = "RELEASE",
  REFUND = "REFUND",
  /** The funding wallet sends a refunded x402 (`exact`) payment back to the wallet that paid it. */
  PAYBACK = "PAYBACK",
  /** The funding wallet amends a funded escrow (a higher reward, a later deadline): TaskEscrow.amend. */
  AMEND = "AMEND",
  /** The funding wallet pays an agent's tip to the operator of a released task: TaskEscrow.tip. */
  TIP = "TIP",
}

export enum ChainTxStatus {
  /** Intended; no nonce yet. */
  PENDING = "PENDING",
  /** Nonce taken, signed and stored; not known to have reached the chain. */
  SIGNED = "SIGNED",
  /** Broadcast at least once; waiting to be mined. */
  SENT = "SENT",
  MINED = "MINED",
  /** Mined and reverted, for good. */
  REVERTED = "REVERTED",
  /** Nothing to send: the chain already shows the outcome, or the intent lapsed (e.g. a task ended before its escrow was funded). */
  SKIPPED = "SKIPPED",
  /** Gave up; a person must look (see last_error and escrow_discrepancies). */
  FAILED = "FAILED",
}

export const OPEN_TX_STATUSES: readonly ChainTxStatus[] = [ChainTxStatus.PENDING, ChainTxStatus.SIGNED, ChainTxStatus.SENT];

/**
 * The chain outbox: one row per intended transaction, written in the same
 * database transaction as the change that calls for it (a task posted,
 * verified, cancelled...). The sender gives it a nonce, signs it and stores
 * the signed bytes and hash *before* broadcasting, so after a crash the very
 * same transaction is re-broadcast or its receipt found: never a second
 * payment, never a forgotten one. `intentKey` is unique: a task has one
 * funding and one settlement (release xor refund), enforced by the database.
 * Times the sender schedules by are epoch milliseconds, like the job table.
 */
@Entity({ tableName: "chain_txs" })
@Index({ properties: ["status", "nextAttemptAt"] })
@Index({ properties: ["chainKey", "signer", "status"] })
@Index({ properties: ["task"] })
export class ChainTx {
  [OptionalProps]?: "status" | "attempts" | "failures" | "previousHashes" | "nextAttemptAt" | "createdAt" | "updatedAt";

  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @Property({ type: "string", length: 80 })
  chainKey: string;

  @Enum({ items: () => ChainTxKind })
  kind: ChainTxKind;

  @Unique()
  @Property({ type: "string", length: 200 })
  intentKey: string;

  @ManyToOne(() => Task, { nullable: true })
  task?: Task;

  /** The platform address that signs it (funding wallet or Guardian). */
  @Property({ type: "string", length: 42 })
  signer: string;

  /** MINT: who receives how much. */
  @Property({ type: "string", length: 42, nullable: true })
  recipient?: string;

  @Property({ type: new BigIntType("bigint"), nullable: true })
  amount?: bigint;

  @Enum({ items: () => ChainTxStatus, default: ChainTxStatus.PENDING })
  status: ChainTxStatus = ChainTxStatus.PENDING;

  @Property({ type: "integer", nullable: true })
  nonce?: number | null;

  @Property({ type: "string", length: 42, nullable: true })
  toAddress?: string;

  @Property({ type: "text", nullable: true })
  data?: string;

  /** The signed transaction, exactly as broadcast. */
  @Property({ type: "text", nullable: true })
  raw?: string | null;

  @Property({ type: "string", length: 66, nullable: true })
  txHash?: string | null;

  /** Hashes of earlier signed versions (proven unable to land, or mined and reverted), newest last. */
  @Property({ type: JsonType })
  previousHashes: string[] = [];

  @Property({ type: new BigIntType("number"), nullable: true })
  blockNumber?: number;

  /** Send attempts (a new nonce after a revert counts as one). */
  @Property({ type: "integer", default: 0 })
  attempts: number = 0;

  /** Consecutive failed steps (RPC errors, failed simulations), for the backoff; reset by progress. */
  @Property({ type: "integer", default: 0 })
  failures: number = 0;

  @Property({ type: new BigIntType("number") })
  nextAttemptAt: number = Date.now();

  /** While set and in the future, a sender (on some replica) holds the row. */
  @Property({ type: new BigIntType("number"), nullable: true })
  lockedUntil?: number | null;

  @Property({ type: "text", nullable: true })
  lastError?: string | null;

  @Property({ type: "Date" })
  createdAt: Date = new Date();

  @Property({ type: "Date", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(chainKey: string, kind: ChainTxKind, intentKey: string, signer: string, target: { task?: Task; recipient?: string; amount?: bigint } = {}) {
    this.chainKey = chainKey;
    this.kind = kind;
    this.intentKey = intentKey;
    this.signer = signer;
    this.task = target.task;
    this.recipient = target.recipient;
    this.amount = target.amount;
  }

  /** Every hash this intent was ever signed as; any of them may be the one mined. */
  get hashes(): string[] {
    return this.txHash ? [...this.previousHashes, this.txHash] : [...this.previousHashes];
  }
}

/** The next nonce of one platform key on one deployment, allocated under the same transaction that stores the signed transaction. */
@Entity({ tableName: "chain_signers" })
export class ChainSigner {
  @PrimaryKey({ type: "string", length: 80 })
  chainKey: string;

  @PrimaryKey({ type: "string", length: 42 })
  address: string;

  @Property({ type: "integer" })
  nextNonce: number;

  constructor(chainKey: string, address: string, nextNonce: number) {
    this.chainKey = chainKey;
    this.address = address;
    this.nextNonce = nextNonce;
  }
}

/** A chain log the indexer has handled: each (transaction, log index) is handled once. */
@Entity({ tableName: "chain_events" })
@Unique({ properties: ["chainKey", "txHash", "logIndex"] })
@Index({ properties: ["chainKey", "chainTaskId"] })
export class ChainEvent {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @Property({ type: "string", length: 80 })
  chainKey: string;

  @Property({ type: "string", length: 66 })
  txHash: string;

  @Property({ type: "integer" })
  logIndex: number;

  @Property({ type: new BigIntType("number") })
  blockNumber: number;

  /** TaskFunded, TaskReleased, TaskRefunded, TaskReclaimed or Transfer (a deposit). */
  @Property({ type: "string", length: 32 })
  name: string;

  @Property({ type: "string", length: 66, nullable: true })
  chainTaskId?: string;

  /** The event's arguments, amounts as decimal strings. */
  @Property({ type: JsonType })
  args: Record<string, string>;

  @Property({ type: "Date" })
  createdAt: Date = new Date();

  constructor(chainKey: string, log: { txHash: string; logIndex: number; blockNumber: number }, name: string, args: Record<string, string>, chainTaskId?: string) {
    this.chainKey = chainKey;
    this.txHash = log.txHash;
    this.logIndex = log.logIndex;
    this.blockNumber = log.blockNumber;
    this.name = name;
    this.args = args;
    this.chainTaskId = chainTaskId;
  }
}

/**
 * A chain deployment some HumanOps process settles on, and when a process
 * last said so. The in-process test chain dies with its process: its
 * escrows are moved to a live chain only once nobody has vouched for it for a
 * while (so replicas sharing a database, each with its own in-process chain,
 * leave each other's escrows alone).
 */
@Entity({ tableName: "chain_instances" })
export class ChainInstance {
  @PrimaryKey({ type: "string", length: 80 })
  chainKey: string;

  /** Epoch milliseconds; 0 once its process stopped and the chain with it. */
  @Property({ type: new BigIntType("number") })
  seenAt: number;

  constructor(chainKey: string, seenAt: number) {
    this.chainKey = chainKey;
    this.seenAt = seenAt;
  }
}
