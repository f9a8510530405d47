import { Entity, Enum, Index, JsonType, ManyToOne, OptionalProps, Property, Unique } from "@mikro-orm/core";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Agent } from "../agents/agent.entity";
import { Task } from "../tasks/task.entity";
import { WebhookSignatureScheme } from "./webhook.signer";
import { WebhookEndpointStatus } from "../api/enums";

export { WebhookEndpointStatus };

registerEnumType(WebhookEndpointStatus, { name: "WebhookEndpointStatus" });

export interface WebhookEndpointTerms {
  agent: Agent;
  mode: Mode;
  url: string;
  eventTypes: string[];
  sealedSecret: string;
  secretFingerprint: string;
  signatureScheme: WebhookSignatureScheme;
  description?: string;
  task?: Task;
  idempotencyKey?: string;
  requestHash?: string;
}

/**
 * Where an agent wants task events delivered. An endpoint receives the
 * events of its agent's tasks in its mode, or, when `task` is set (a task's
 * callback_url), of that one task only. The signing secret is kept sealed
 * (webhook.secrets.ts): usable to sign, never returned after creation.
 */
@ObjectType()
@Entity({ tableName: "webhook_endpoints" })
@Index({ properties: ["agent", "mode"] })
@Unique({ properties: ["agent", "idempotencyKey"] })
export class WebhookEndpoint extends BaseEntity {
  [OptionalProps]?: "status" | "consecutiveFailures" | "createdAt" | "updatedAt";

  @ManyToOne(() => Agent)
  agent: Agent;

  @Field(() => Mode)
  @Enum({ items: () => Mode })
  mode: Mode;

  @ManyToOne(() => Task, { nullable: true })
  task?: Task;

  @Field(() => String)
  @Property({ type: "string", length: 2048 })
  url: string;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  description?: string;

  @Field(() => [String], { description: "Event types delivered here; task.status_changed means every task transition" })
  @Property({ type: JsonType })
  eventTypes: string[];

  @Property({ type: "text" })
  sealedSecret: string;

  @Field(() => String, { description: "12 hex digits of SHA-256(secret): tells secrets apart without revealing them" })
  @Property({ type: "string", length: 16 })
  secretFingerprint: string;

  @Field(() => WebhookEndpointStatus)
  @Enum({ items: () => WebhookEndpointStatus })
  status: WebhookEndpointStatus = WebhookEndpointStatus.ACTIVE;

  @Field(() => Date, { nullable: true })
  @Property({ type: "Date", nullable: true })
  disabledAt?: Date;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 500, nullable: true })
  disabledReason?: string;

  @Field(() => Int, { description: "Failed attempts since the last successful delivery" })
  @Property({ type: "integer" })
  consecutiveFailures: number = 0;

  @Field(() => Date, { nullable: true })
  @Property({ type: "Date", nullable: true })
  lastSuccessAt?: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: "Date", nullable: true })
  lastFailureAt?: Date;

  @Property({ type: "string", length: 255, nullable: true })
  idempotencyKey?: string;

  /** Hash of the creating request, so a reused idempotency key with another body is refused. */
  @Property({ type: "string", length: 64, nullable: true })
  requestHash?: string;

  /** Rows from before Standard Webhooks keep the scheme their receivers verify (the column's default); new endpoints say theirs. */
  @Field(() => WebhookSignatureScheme, { description: "How deliveries are signed: STANDARD (webhook-signature) or the deprecated LEGACY (HumanOps-Signature)" })
  @Enum({ items: () => WebhookSignatureScheme, default: WebhookSignatureScheme.LEGACY })
  signatureScheme: WebhookSignatureScheme;

  /** The secret a rotation replaced, still signing (beside the new one) until previousSecretExpiresAt. */
  @Property({ type: "text", nullable: true })
  previousSealedSecret?: string;

  @Property({ type: "string", length: 16, nullable: true })
  previousFingerprint?: string;

  @Enum({ items: () => WebhookSignatureScheme, nullable: true })
  previousScheme?: WebhookSignatureScheme;

  @Property({ type: "Date", nullable: true })
  previousExpiresAt?: Date;

  constructor(terms: WebhookEndpointTerms) {
    super();
    this.agent = terms.agent;
    this.mode = terms.mode;
    this.url = terms.url;
    this.eventTypes = terms.eventTypes;
    this.sealedSecret = terms.sealedSecret;
    this.secretFingerprint = terms.secretFingerprint;
    this.signatureScheme = terms.signatureScheme;
    this.description = terms.description;
    this.task = terms.task;
    this.idempotencyKey = terms.idempotencyKey;
    this.requestHash = terms.requestHash;
  }

  /** The replaced secret while it still signs; undefined once its overlap is over. */
  previousSecret(now = new Date()): { sealedSecret: string; scheme: WebhookSignatureScheme } | undefined {
    if (!this.previousSealedSecret || !this.previousScheme || !this.previousExpiresAt || this.previousExpiresAt <= now) return undefined;
    return { sealedSecret: this.previousSealedSecret, scheme: this.previousScheme };
  }

  @Field(() => String, { nullable: true, description: "After a rotation: the fingerprint of the replaced secret while it still signs deliveries (null once it has expired)" })
  get previousSecretFingerprint(): string | undefined {
    return this.previousSecret() ? this.previousFingerprint : undefined;
  }

  @Field(() => Date, { nullable: true, description: "After a rotation: until when the replaced secret also signs every delivery (null once it has expired)" })
  get previousSecretExpiresAt(): Date | undefined {
    return this.previousSecret() ? this.previousExpiresAt : undefined;
  }

  @Field(() => ID, { nullable: true, description: "Set for a task's own callback_url: only that task's events come here" })
  get taskId(): string | undefined {
    return this.task?.id;
  }
}
