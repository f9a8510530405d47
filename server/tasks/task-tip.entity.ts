import { BigIntType, Entity, Enum, Index, ManyToOne, OptionalProps, Property } from "@mikro-orm/core";
import { Field, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Task } from "./task.entity";

export enum TipStatus {
  /** Booked to the operator's earnings; its on-chain transfer is queued or in flight. */
  PENDING = "PENDING",
  /** TaskEscrow.tip was mined: the USDC reached the operator's payout address. */
  PAID = "PAID",
}

registerEnumType(TipStatus, { name: "TipStatus", description: "PENDING: booked, the on-chain transfer is on its way. PAID: mined to the operator's payout address (txHash)" });

/**
 * A bonus an agent gave the operator of a PAID task. It is booked from the
 * agent's balance to the operator's earnings in the request's transaction,
 * with an outbox row (intent `tip:<id>`) that pays it on chain through
 * TaskEscrow.tip, from the funding wallet to the payout address the task's
 * release paid.
 */
@ObjectType({ description: "A bonus the agent gave the operator of a PAID task, paid on chain (TaskEscrow.tip) to the operator's payout address" })
@Entity({ tableName: "task_tips" })
@Index({ properties: ["task", "createdAt"] })
export class TaskTip extends BaseEntity {
  [OptionalProps]?: "status" | "createdAt" | "updatedAt";

  @ManyToOne(() => Task)
  task: Task;

  @Enum({ items: () => Mode })
  mode: Mode;

  @Property({ type: new BigIntType("bigint") })
  amount: bigint;

  /** The operator's address: the payee of the task's release. */
  @Property({ type: "string", length: 42 })
  payee: string;

  @Field(() => TipStatus)
  @Enum({ items: () => TipStatus })
  status: TipStatus = TipStatus.PENDING;

  @Field(() => String, { nullable: true, description: "The tip's transaction, once mined" })
  @Property({ type: "string", length: 66, nullable: true })
  txHash?: string | null;

  @Field(() => String, { nullable: true, description: "The agent's note to the operator" })
  @Property({ type: "string", length: 500, nullable: true })
  note?: string | null;

  constructor(task: Task, amount: bigint, payee: string, note?: string) {
    super();
    this.task = task;
    this.mode = task.mode;
    this.amount = amount;
    this.payee = payee;
    this.note = note ?? null;
  }
}
