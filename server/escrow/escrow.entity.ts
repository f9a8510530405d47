import { BigIntType, Entity, Enum, Index, ManyToOne, OneToOne, OptionalProps, Property, Unique } from "@mikro-orm/core";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Task } from "../tasks/task.entity";
import type { Terms } from "../chain/contracts";

/** What the chain has done with a task's escrow, as far as HumanOps has seen it mined. */
export enum EscrowStatus {
  /** Written with the task; the funding transaction is queued or in flight. */
  FUNDING = "FUNDING",
  /** TaskEscrow holds the money. */
  FUNDED = "FUNDED",
  /** Paid out: the operator got the reward, the treasury the fee. */
  RELEASED = "RELEASED",
  /** Returned to the funding wallet (refund, or reclaim after deadline + grace). */
  REFUNDED = "REFUNDED",
  /** Never funded: the task ended first, or funding failed; the money never left the funding wallet. */
  UNFUNDED = "UNFUNDED",
}

/**
 * A task's escrow on chain: where it is (chain, contract, the bytes32 task
 * id there), the terms it was funded with, and the transactions that moved
 * it. `version` makes every change a compare-and-set, so the sender (from a
 * receipt) and the indexer (from an event) cannot both apply an outcome.
 */
@Entity({ tableName: "escrows" })
@Unique({ properties: ["chainKey", "chainTaskId"] })
@Index({ properties: ["status"] })
export class Escrow extends BaseEntity {
  [OptionalProps]?: "status" | "version" | "createdAt" | "updatedAt";

  @OneToOne(() => Task, { owner: true, unique: true })
  task: Task;

  @Enum({ items: () => Mode })
  mode: Mode;

  /** `<chainId>:<TaskEscrow address>`: one deployment. */
  @Property({ type: "string", length: 80 })
  chainKey: string;

  @Property({ type: "integer" })
  chainId: number;

  @Property({ type: "string", length: 42 })
  contract: string;

  /** The task's id on chain: 32 random bytes, so nobody can fund it before HumanOps does. */
  @Property({ type: "string", length: 66 })
  chainTaskId: string;

  @Property({ type: "string", length: 42 })
  funder: string;

  /** reward + fee, escrowed. */
  @Property({ type: new BigIntType("bigint") })
  amount: bigint;

  @Property({ type: new BigIntType("bigint") })
  fee: bigint;

  /** Unix seconds. */
  @Property({ type: new BigIntType("bigint") })
  deadline: bigint;

  @Property({ type: "integer" })
  gracePeriod: number;

  @Enum({ items: () => EscrowStatus })
  status: EscrowStatus = EscrowStatus.FUNDING;

  @Property({ type: "string", length: 66, nullable: true })
  fundTxHash?: string;

  @Property({ type: "string", length: 66, nullable: true })
  releaseTxHash?: string;

  @Property({ type: "string", length: 66, nullable: true })
  refundTxHash?: string;

  /** Who the release paid. */
  @Property({ type: "string", length: 42, nullable: true })
  payee?: string;

  @Property({ type: "integer", version: true })
  version: number = 1;

  constructor(task: Task, place: { chainKey: string; chainId: number; contract: string }, chainTaskId: string, terms: Terms) {
    super();
    this.task = task;
    this.mode = task.mode;
    this.chainKey = place.chainKey;
    this.chainId = place.chainId;
    this.contract = place.contract;
    this.chainTaskId = chainTaskId;
    this.funder = terms.funder;
    this.amount = terms.amount;
    this.fee = terms.fee;
    this.deadline = terms.deadline;
    this.gracePeriod = Number(terms.gracePeriod);
  }

  get terms(): Terms {
    return { funder: this.funder, amount: this.amount, fee: this.fee, deadline: this.deadline, gracePeriod: BigInt(this.gracePeriod) };
  }
}

/** Something the chain and the books disagree on, found by the indexer or the sender, and what was done about it. */
@Entity({ tableName: "escrow_discrepancies" })
@Index({ properties: ["chainKey", "createdAt"] })
export class EscrowDiscrepancy extends BaseEntity {
  @Property({ type: "string", length: 80 })
  chainKey: string;

  @ManyToOne(() => Task, { nullable: true })
  task?: Task;

  @Property({ type: "string", length: 64 })
  kind: string;

  @Property({ type: "text" })
  detail: string;

  /** True when HumanOps corrected its books to the chain; false when a person must look. */
  @Property({ type: "boolean" })
  fixed: boolean;

  /** The same finding is recorded once (e.g. per chain log). */
  @Unique()
  @Property({ type: "string", length: 200, nullable: true })
  dedupeKey?: string;

  constructor(chainKey: string, kind: string, detail: string, fixed: boolean, task?: Task, dedupeKey?: string) {
    super();
    this.chainKey = chainKey;
    this.kind = kind;
    this.detail = detail;
    this.fixed = fixed;
    this.task = task;
    this.dedupeKey = dedupeKey;
  }
}
