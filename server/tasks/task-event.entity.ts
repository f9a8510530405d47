import { Entity, Enum, Formula, Index, ManyToOne, PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { Task } from "./task.entity";
import { ActorType, TaskEventKind, TaskStatus } from "./task.enums";

/**
 * The audit log: one row per transition, written in the same transaction as
 * the status change, and one when the task's escrow is funded on chain (the
 * moment operators may take it). Its auto-increment id orders all events globally, which
 * is what subscribers resume from.
 */
@ObjectType()
@Entity({ tableName: "task_events" })
@Index({ properties: ["task", "id"] })
@Index({ properties: ["actorId", "toStatus"] })
export class TaskEvent {
  @Field(() => ID)
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @ManyToOne(() => Task)
  task: Task;

  /**
   * Read only when asked for (populate): the active webhook endpoints the
   * task's agent has as the event is read (a count; PostgreSQL returns it as
   * a string). The event relay reads it with the events, so the webhook
   * dispatcher need not look endpoints up for each batch it is handed.
   */
  @Formula((table) => `(select count(*) from webhook_endpoints ev_endpoint join tasks ev_task on ev_task.agent_id = ev_endpoint.agent_id where ev_task.id = ${table.alias}.task_id and ev_endpoint.status = 'ACTIVE')`, { lazy: true })
  agentEndpoints?: number | string;

  @Field(() => TaskStatus, { nullable: true, description: "Null for the event that created the task" })
  @Enum({ items: () => TaskStatus, nullable: true })
  fromStatus?: TaskStatus;

  @Field(() => TaskStatus)
  @Enum({ items: () => TaskStatus })
  toStatus: TaskStatus;

  @Field(() => ActorType)
  @Enum({ items: () => ActorType })
  actorType: ActorType;

  @Field(() => String, { nullable: true })
  @Property({ type: "uuid", nullable: true })
  actorId?: string;

  @Field(() => String, { nullable: true })
  @Property({ type: "string", length: 1000, nullable: true })
  reason?: string;

  @Field(() => Date)
  @Property({ type: "Date" })
  createdAt: Date = new Date();

  @Field(() => TaskEventKind)
  @Enum({ items: () => TaskEventKind, default: TaskEventKind.STATUS_CHANGED })
  kind: TaskEventKind = TaskEventKind.STATUS_CHANGED;

  constructor(task: Task, fromStatus: TaskStatus | undefined, toStatus: TaskStatus, actor: { type: ActorType; id?: string }, reason?: string, kind: TaskEventKind = TaskEventKind.STATUS_CHANGED) {
    this.kind = kind;
    this.task = task;
    this.fromStatus = fromStatus;
    this.toStatus = toStatus;
    this.actorType = actor.type;
    this.actorId = actor.id;
    this.reason = reason;
  }
}
