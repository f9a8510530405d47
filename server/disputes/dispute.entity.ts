import { Entity, Enum, Index, ManyToOne, Property, Unique } from "@mikro-orm/core";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Task } from "../tasks/task.entity";
import { Admin } from "../admin/admin.entity";
import { DisputeDecision, DisputeStatus } from "./dispute.enums";

/**
 * An agent's dispute of verified proof, opened within the task's review
 * window (the task becomes DISPUTED) and decided by the platform: release to
 * the operator or refund to the agent. One per task: after the decision the
 * money moves and the window is over.
 */
@ObjectType()
@Entity({ tableName: "disputes" })
@Unique({ properties: ["task"] })
@Index({ properties: ["status", "createdAt"] })
export class Dispute extends BaseEntity {
  @ManyToOne(() => Task)
  task: Task;

  @Field(() => String, { description: "Why the agent disputes the proof, as the agent wrote it" })
  @Property({ type: "string", length: 1000 })
  reason: string;

  @Field(() => DisputeStatus)
  @Enum({ items: () => DisputeStatus })
  status: DisputeStatus = DisputeStatus.OPEN;

  @Field(() => DisputeDecision, { nullable: true })
  @Enum({ items: () => DisputeDecision, nullable: true })
  decision?: DisputeDecision | null;

  @Field(() => String, { nullable: true, description: "The platform's explanation of its decision" })
  @Property({ type: "string", length: 1000, nullable: true })
  decisionNote?: string | null;

  /** Null while open, and for a dispute ended by the chain (the escrow reclaimed after its grace period). */
  @ManyToOne(() => Admin, { nullable: true })
  decidedBy?: Admin | null;

  @Field(() => Date, { nullable: true })
  @Property({ type: "Date", nullable: true })
  decidedAt?: Date | null;

  constructor(task: Task, reason: string) {
    super();
    this.task = task;
    this.reason = reason;
  }

  decide(decision: DisputeDecision, note: string, by: Admin | null): void {
    this.status = DisputeStatus.DECIDED;
    this.decision = decision;
    this.decisionNote = note;
    this.decidedBy = by;
    this.decidedAt = new Date();
  }
}
