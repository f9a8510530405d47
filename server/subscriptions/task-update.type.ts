import { Field, ID, ObjectType } from "type-graphql";
import { ActorType, TaskEventKind, TaskStatus } from "../tasks/task.enums";
import type { LiveTaskEvent } from "../tasks/task-event.log";

@ObjectType({ description: "One task event (a transition, or its escrow funded on chain), delivered once, in event id order" })
export class TaskUpdate {
  @Field(() => ID, { description: "The transition's event id: pass the last one you saw as afterEventId to resume without gaps or repeats" })
  eventId!: string;

  @Field(() => ID)
  taskId!: string;

  @Field(() => TaskEventKind, { description: "STATUS_CHANGED, or ESCROW_FUNDED: the money is locked on chain and operators may accept (status stays POSTED)" })
  kind!: TaskEventKind;

  @Field(() => TaskStatus, { description: "The status the task moved to (for ESCROW_FUNDED, the status it keeps)" })
  status!: TaskStatus;

  @Field(() => TaskStatus, { nullable: true, description: "The status it moved from (null when the task was created)" })
  previousStatus?: TaskStatus;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => ActorType)
  actorType!: ActorType;

  @Field(() => String, { nullable: true })
  reason?: string;

  /**
   * The update of an event: one object per event, however many subscribers
   * it reaches, so their results can be computed once (shared-execution.ts).
   */
  static of(event: LiveTaskEvent): TaskUpdate {
    let update = UPDATES.get(event);
    if (!update) UPDATES.set(event, (update = TaskUpdate.from(event)));
    return update;
  }

  private static from(event: LiveTaskEvent): TaskUpdate {
    return Object.assign(new TaskUpdate(), {
      eventId: event.id,
      taskId: event.taskId,
      kind: event.kind,
      status: event.toStatus,
      previousStatus: event.fromStatus,
      occurredAt: event.createdAt,
      actorType: event.actorType,
      reason: event.reason,
    });
  }
}

const UPDATES = new WeakMap<LiveTaskEvent, TaskUpdate>();
