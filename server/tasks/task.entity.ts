import { BigIntType, Entity, Enum, Index, ManyToOne, Property, Unique, JsonType, OptionalProps } from "@mikro-orm/core";
import { Field, Float, Int, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Agent } from "../agents/agent.entity";
import { Operator } from "../operators/operator.entity";
import { TaskStatus, TaskType, TestScenario } from "./task.enums";

@ObjectType()
export class Location {
  @Field(() => Float)
  lat!: number;

  @Field(() => Float)
  lng!: number;

  @Field(() => String, { nullable: true })
  address?: string;
}

export interface TaskTerms {
  agent: Agent;
  mode: Mode;
  title: string;
  description: string;
  taskType: TaskType;
  lat: number;
  lng: number;
  address?: string;
  rewardUnits: bigint;
  feeUnits: bigint;
  deadline: Date;
  proofRequirements: string[];
  maxAttempts: number;
  acceptWindowMinutes: number;
  minCompletedTasks?: number | null;
  minRating?: number | null;
  reviewWindowMinutes?: number | null;
  testScenario?: TestScenario;
  idempotencyKey?: string;
  requestHash?: string;
}

/**
 * A task and its money terms. `status` only changes through
 * task.state-machine.ts; `version` makes every change a compare-and-set, so
 * two racing transitions cannot both win.
 */

@ObjectType({ description: "How a task was paid for from the agent's own wallet over x402" })
export class TaskX402Payment {
  @Field(() => String, { description: '"exact": the wallet paid HumanOps\'s funding wallet, which funded the escrow and sends any refund back to the wallet; "escrow": the wallet funded TaskEscrow itself and is its funder (refunds and reclaims reach it on chain)' })
  scheme!: string;

  @Field(() => String, { description: "The paying wallet" })
  payer!: string;

  @Field(() => String, { description: "The transaction that settled the payment" })
  transaction!: string;
}
@ObjectType()
@Entity({ tableName: "tasks" })
@Index({ properties: ["status", "lat", "lng"] })
@Index({ properties: ["status", "fundedAt"] })
@Index({ properties: ["agent", "createdAt"] })
@Index({ properties: ["operator", "createdAt"] })
@Unique({ properties: ["agent", "idempotencyKey"] })
export class Task extends BaseEntity {
  [OptionalProps]?: "status" | "attempts" | "version" | "createdAt" | "updatedAt";

  @ManyToOne(() => Agent)
  agent: Agent;

  @Field(() => Mode)
  @Enum({ items: () => Mode })
  mode: Mode;

  @Field(() => TaskStatus)
  @Enum({ items: () => TaskStatus })
  status: TaskStatus = TaskStatus.POSTED;

  @Field(() => String)
  @Property({ type: "string", length: 200 })
  title: string;

  @Field(() => String)
  @Property({ type: "text" })
  description: string;

  @Field(() => TaskType)
  @Enum({ items: () => TaskType })
  taskType: TaskType;

  @Property({ type: "double" })
  lat: number;

  @Property({ type: "double" })
  lng: number;

  @Property({ type: "string", length: 500, nullable: true })
  address?: string;

  @Property({ type: new BigIntType("bigint") })
  rewardUnits: bigint;

  @Property({ type: new BigIntType("bigint") })
  feeUnits: bigint;

  @Field(() => Date)
  @Property({ type: "Date" })
  deadline: Date;

  @Field(() => [String])
  @Property({ type: JsonType })
  proofRequirements: string[];

  @ManyToOne(() => Operator, { nullable: true })
  operator?: Operator;

  @Field(() => Int, { description: "Proof submissions so far" })
  @Property({ type: "integer" })
  attempts: number = 0;

  @Field(() => Int)
  @Property({ type: "integer" })
  maxAttempts: number;

  @Field(() => TestScenario, { nullable: true })
  @Enum({ items: () => TestScenario, nullable: true })
  testScenario?: TestScenario;

  @Property({ type: "string", length: 255, nullable: true })
  idempotencyKey?: string;

  /** Hash of the creating request, so a reused idempotency key with another body is refused. */
  @Property({ type: "string", length: 64, nullable: true })
  requestHash?: string;

  @Property({ type: "integer", version: true })
  version: number = 1;

  /** Issued on each acceptance (capture-code.ts), shown to the task's agent and the operator holding it; null while open. */
  @Index()
  @Property({ type: "string", length: 16, nullable: true })
  captureCode?: string | null;

  /**
   * When the task's escrow was funded on chain; null while its money is not
   * locked there (funding still in flight, or released, refunded or moved to
   * another chain since). A POSTED task is offered to operators only with it set.
   */
  @Property({ type: "Date", nullable: true })
  fundedAt?: Date | null;

  /** The database's default is for tasks posted before the accept window existed; a new task takes its own or TASK_ACCEPT_WINDOW_MINUTES. */
  @Field(() => Int, { description: "Minutes the accepting operator may hold the task without proof; then it is POSTED again for others (never past the deadline)" })
  @Property({ type: "integer", default: 120 })
  acceptWindowMinutes: number;

  /** When the operator holding the task accepted it; null while nobody holds it. */
  @Property({ type: "Date", nullable: true })
  acceptedAt?: Date | null;

  @Field(() => Int, { nullable: true, description: "An operator needs at least this many completed (PAID) tasks to accept; null for no minimum" })
  @Property({ type: "integer", nullable: true })
  minCompletedTasks?: number | null;

  @Field(() => Float, { nullable: true, description: "An operator needs an average rating from agents of at least this (1-5) to accept; an operator nobody has rated yet does not meet it. Null for no minimum" })
  @Property({ type: "double", nullable: true })
  minRating?: number | null;

  /** Null: the release follows VERIFIED at once. Otherwise the agent has this long after VERIFIED to dispute before the money goes out. */
  @Field(() => Int, { nullable: true, description: "Minutes the release waits after VERIFIED, during which the agent may dispute the proof (null: released at once)" })
  @Property({ type: "integer", nullable: true })
  reviewWindowMinutes?: number | null;

  /** While VERIFIED within its review window: when the release goes out. Null once it is queued (or with no window). */
  @Field(() => Date, { nullable: true, description: "While VERIFIED within the review window: when the release to the operator goes out unless the agent disputes first" })
  @Property({ type: "Date", nullable: true })
  releaseHeldUntil?: Date | null;
  /** The wallet that paid for the task with x402 (server/x402); its refund goes back there. Null: paid from the agent's balance. */
  @Property({ type: "string", length: 42, nullable: true })
  paidBy?: string | null;

  /** The x402 scheme of that payment: "exact" (to the funding wallet, which funds the escrow) or "escrow" (the wallet funds TaskEscrow itself). */
  @Property({ type: "string", length: 40, nullable: true })
  paymentScheme?: string | null;

  /** The transaction that settled the x402 payment; one payment pays for one task. */
  @Property({ type: "string", length: 66, nullable: true, unique: true })
  paymentTx?: string | null;

  constructor(terms: TaskTerms) {
    super();
    this.agent = terms.agent;
    this.mode = terms.mode;
    this.title = terms.title;
    this.description = terms.description;
    this.taskType = terms.taskType;
    this.lat = terms.lat;
    this.lng = terms.lng;
    this.address = terms.address;
    this.rewardUnits = terms.rewardUnits;
    this.feeUnits = terms.feeUnits;
    this.deadline = terms.deadline;
    this.proofRequirements = terms.proofRequirements;
    this.maxAttempts = terms.maxAttempts;
    this.acceptWindowMinutes = terms.acceptWindowMinutes;
    this.minCompletedTasks = terms.minCompletedTasks ?? null;
    this.minRating = terms.minRating ?? null;
    this.reviewWindowMinutes = terms.reviewWindowMinutes ?? null;
    this.testScenario = terms.testScenario;
    this.idempotencyKey = terms.idempotencyKey;
    this.requestHash = terms.requestHash;
  }

  get totalUnits(): bigint {
    return this.rewardUnits + this.feeUnits;
  }

  /**
   * While the task is ACCEPTED: when the operator's hold ends without proof,
   * the accept window after acceptance or the deadline, whichever is first.
   * Null otherwise (and for a task accepted before acceptance times were kept).
   */
  @Field(() => Date, { nullable: true, description: "While ACCEPTED: when the operator's hold ends if no proof has come (acceptance + acceptWindowMinutes, or the deadline if sooner)" })
  get reservedUntil(): Date | null {
    if (this.status !== TaskStatus.ACCEPTED || !this.acceptedAt) return null;
    return new Date(Math.min(this.acceptedAt.getTime() + this.acceptWindowMinutes * 60_000, this.deadline.getTime()));
  }

  /** The x402 payment, when the agent paid from its own wallet (shown to the agent only: task.resolver.ts). */
  get x402Payment(): TaskX402Payment | null {
    if (!this.paidBy || !this.paymentScheme || !this.paymentTx) return null;
    return { scheme: this.paymentScheme, payer: this.paidBy, transaction: this.paymentTx };
  }
}
