import { BigIntType, Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Task } from "../tasks/task.entity";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { WebhookDeliveryStatus } from "../api/enums";

export { WebhookDeliveryStatus };

registerEnumType(WebhookDeliveryStatus, { name: "WebhookDeliveryStatus" });

/**
 * One event for one endpoint: the durable outbox row the sender works from.
 * The body is fixed when the row is written, so every attempt and every
 * manual redelivery sends the same bytes under the same event id. Times the
 * sender schedules by are epoch milliseconds (like the job table) so its
 * claim query is the same SQL on SQLite and PostgreSQL.
 */
@ObjectType()
@Entity({ tableName: "webhook_deliveries" })
@Unique({ properties: ["endpoint", "eventId"] })
@Index({ properties: ["status", "nextAttemptAt"] })
@Index({ properties: ["endpoint", "createdAt"] })
export class WebhookDelivery extends BaseEntity {
  [OptionalProps]?: "status" | "attempts" | "createdAt" | "updatedAt";

  @ManyToOne(() => WebhookEndpoint)
  endpoint: WebhookEndpoint;

  @ManyToOne(() => Task, { nullable: true })
  task?: Task;

  @Field(() => String, { description: "Unique per event (the webhook-id header): the same on every attempt, so receivers can de-duplicate" })
  @Property({ type: "string", length: 64 })
  eventId: string;

  @Field(() => String)
  @Property({ type: "string", length: 64 })
  eventType: string;

  @Field(() => String, { description: "The exact JSON body that is signed and sent" })
  @Property({ type: "text" })
  payload: string;

  @Field(() => WebhookDeliveryStatus)
  @Enum({ items: () => WebhookDeliveryStatus, default: WebhookDeliveryStatus.PENDING })
  status: WebhookDeliveryStatus = WebhookDeliveryStatus.PENDING;

  @Field(() => Int)
  @Property({ type: "integer", default: 0 })
  attempts: number = 0;

  @Property({ type: new BigIntType("number") })
  nextAttemptAt: number;

  /** While set and in the future, an attempt is in flight on some replica. */
  @Property({ type: new BigIntType("number"), nullable: true })
  lockedUntil?: number;

  /** Retries stop after this moment. */
  @Property({ type: new BigIntType("number") })
  retryUntil: number;

  @Field(() => Date, { nullable: true })
  @Property({ type: "Date", nullable: true })
  deliveredAt?: Date;

  @Field(() => Int, { nullable: true })
  @Property({ type: "integer", nullable: true })
  lastStatusCode?: number;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  lastError?: string;

  /** Due at once (`now`, by the clock the sender judges by), retried for `retryWindowMs` from then. */
  constructor(endpoint: WebhookEndpoint, eventId: string, eventType: string, payload: string, now: number, retryWindowMs: number, task?: Task) {
    super();
    this.endpoint = endpoint;
    this.eventId = eventId;
    this.eventType = eventType;
    this.payload = payload;
    this.nextAttemptAt = now;
    this.retryUntil = now + retryWindowMs;
    this.task = task;
  }

  @Field(() => ID)
  get endpointId(): string {
    return this.endpoint.id;
  }

  @Field(() => ID, { nullable: true })
  get taskId(): string | undefined {
    return this.task?.id;
  }

  @Field(() => Date, { nullable: true, description: "When the next attempt is due (null once delivered or failed)" })
  get nextAttemptDueAt(): Date | undefined {
    return this.status === WebhookDeliveryStatus.PENDING ? new Date(this.nextAttemptAt) : undefined;
  }
}

/** The delivery log: one row per HTTP attempt. Only a short excerpt of the receiver's answer is kept. */
@ObjectType()
@Entity({ tableName: "webhook_attempts" })
@Index({ properties: ["delivery", "id"] })
export class WebhookAttempt {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @ManyToOne(() => WebhookDelivery)
  delivery: WebhookDelivery;

  @Field(() => Int)
  @Property({ type: "integer" })
  attempt: number;

  @Field(() => Date)
  @Property({ type: "Date" })
  startedAt: Date;

  @Field(() => Int)
  @Property({ type: "integer" })
  durationMs: number;

  @Field(() => Boolean)
  @Property({ type: "boolean" })
  succeeded: boolean;

  @Field(() => Int, { nullable: true })
  @Property({ type: "integer", nullable: true })
  statusCode?: number;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  error?: string;

  @Field(() => String, { nullable: true, description: "At most the first 512 bytes of the response body; never kept from a loopback address" })
  @Property({ type: "string", length: 600, nullable: true })
  responseExcerpt?: string;

  constructor(delivery: WebhookDelivery, outcome: Omit<WebhookAttempt, "id" | "delivery">) {
    this.delivery = delivery;
    this.attempt = outcome.attempt;
    this.startedAt = outcome.startedAt;
    this.durationMs = outcome.durationMs;
    this.succeeded = outcome.succeeded;
    this.statusCode = outcome.statusCode;
    this.error = outcome.error;
    this.responseExcerpt = outcome.responseExcerpt;
  }
}
