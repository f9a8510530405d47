import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { Context } from "../graphql/context";
import { UnauthenticatedError } from "../common/errors";
import { Topics } from "../events/live-feed";
import type { LiveTaskEvent } from "../tasks/task-event.log";
import { TaskEventKind } from "../tasks/task.enums";
import { TaskMessage } from "../messages/message.entity";
import { MessageService } from "../messages/message.service";
import { TaskUpdate } from "./task-update.type";
import { stream } from "./task-update.resolver";
import type { FeedSource } from "./task-update.stream";

function principalOf(ctx: Context) {
  if (!ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
  return ctx.principal;
}

/** A task's thread live over graphql-ws: its new messages, and the message an update of kind MESSAGE_POSTED carries. */
@Resolver(() => TaskUpdate)
export class TaskMessageSubscriptionResolver {
  @Subscription(() => TaskUpdate, {
    description: "A task's new messages as they are written (kind MESSAGE_POSTED, with `message`): for its agent, and for the operator holding it (their own thread)",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, { taskId: string; afterEventId?: string | null }, Context>) => {
      const principal = principalOf(context);
      const task = await context.services.messages.taskFor(context.em, principal, args.taskId);
      const reader = principal.kind === "agent" ? (e: LiveTaskEvent) => e.agentId === principal.agentId : (e: LiveTaskEvent) => e.operatorId === principal.operatorId;
      const source: FeedSource = {
        topic: Topics.task(task.id),
        accepts: (e) => e.kind === TaskEventKind.MESSAGE_POSTED && e.mode === principal.mode && reader(e),
        replayWhere: { task: task.id, kind: TaskEventKind.MESSAGE_POSTED },
      };
      return stream(context, source, args.afterEventId);
    },
  })
  taskMessageAdded(
    @Root() update: TaskUpdate,
    @Arg("taskId", () => ID) _taskId: string,
    @Arg("afterEventId", () => ID, { nullable: true, description: "The eventId of the last message update you received: later ones are replayed first" }) _afterEventId?: string,
  ): TaskUpdate {
    return update;
  }

  @FieldResolver(() => TaskMessage, { nullable: true, description: "For kind MESSAGE_POSTED: the message, when you may read it (the other thread of a task you hold is not yours)" })
  async message(@Root() update: TaskUpdate, @Ctx() ctx: Context): Promise<TaskMessage | null> {
    if (update.kind !== TaskEventKind.MESSAGE_POSTED) return null;
    const message = await ctx.em.findOne(TaskMessage, { event: update.eventId }, { populate: ["task"] });
    return message && MessageService.mayRead(ctx.principal, message.task, message) ? message : null;
  }
}
