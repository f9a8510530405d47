import { Arg, Ctx, FieldResolver, Float, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { NotFoundError, UnauthenticatedError, ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAgent, requireOperator } from "../graphql/auth";
import { Task } from "../tasks/task.entity";
import { TaskStatus, TaskType } from "../tasks/task.enums";
import { GeoPointInput } from "../tasks/task.input";
import type { LiveTaskEvent } from "../tasks/task-event.log";
import { OFFERING_EVENTS, offersTask, Topics } from "../events/live-feed";
import { TaskUpdate } from "./task-update.type";
import { parseAfterEventId, TaskUpdateStream, type FeedSource } from "./task-update.stream";

const MAX_RADIUS_KM = 500;
const EARTH_RADIUS_KM = 6371.0088;
const RESUME = "The eventId of the last update you received: updates after it are replayed from the event log, then live ones follow";

interface TaskArgs {
  taskId: string;
  afterEventId?: string | null;
}

interface NearbyArgs {
  near: GeoPointInput;
  radiusKm: number;
  taskType?: TaskType | null;
  afterEventId?: string | null;
}

function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lng - a.lng) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function stream(ctx: Context, source: FeedSource, afterEventId: string | null | undefined): TaskUpdateStream {
  return new TaskUpdateStream(ctx, ctx.services.live, source, parseAfterEventId(afterEventId));
}

/** One task's transitions, for its agent, or for an operator while the task is open or theirs. */
async function taskSource(ctx: Context, taskId: string): Promise<FeedSource> {
  const principal = ctx.principal;
  if (!principal) throw ctx.authError ?? new UnauthenticatedError();
  const base = { topic: Topics.task(taskId), replayWhere: { task: taskId } };
  if (principal.kind === "agent") {
    await ctx.services.tasks.getForAgent(ctx.em, principal, taskId);
    return { ...base, accepts: (e) => e.agentId === principal.agentId && e.mode === principal.mode };
  }
  await ctx.services.tasks.getForOperator(ctx.em, principal, taskId);
  // An operator sees a task's open life, the event that ends it (someone accepted it), and everything once it is theirs.
  const visible = (e: LiveTaskEvent) => e.operatorId === principal.operatorId || e.toStatus === TaskStatus.POSTED || e.fromStatus === TaskStatus.POSTED;
  return { ...base, accepts: (e) => e.mode === principal.mode && visible(e) };
}

function nearbySource(ctx: Context, args: NearbyArgs): FeedSource {
  const principal = requireOperator(ctx);
  const { near, radiusKm, taskType } = args;
  if (!(near.lat >= -90 && near.lat <= 90)) throw new ValidationError("near.lat", "must be between -90 and 90");
  if (!(near.lng >= -180 && near.lng <= 180)) throw new ValidationError("near.lng", "must be between -180 and 180");
  if (!(radiusKm > 0 && radiusKm <= MAX_RADIUS_KM)) throw new ValidationError("radiusKm", `must be greater than 0 and at most ${MAX_RADIUS_KM}`);
  const latDelta = (radiusKm / EARTH_RADIUS_KM) * (180 / Math.PI);
  return {
    topic: Topics.open(principal.mode),
    // A task is offered once its money is locked on chain (as availableTasks does), not when it is posted; again when its operator
    // gives it back, and when its agent changes it while it is open (a raise, a later deadline, new text).
    accepts: (e) => offersTask(e) && e.mode === principal.mode && (!taskType || e.taskType === taskType) && distanceKm(near, e) <= radiusKm,
    replayWhere: { ...OFFERING_EVENTS, task: { mode: principal.mode, lat: { $gte: near.lat - latDelta, $lte: near.lat + latDelta } } },
  };
}

/**
 * Live task updates over graphql-ws (the same /graphql URL, WebSocket
 * protocol graphql-transport-ws, API key in connection_init). Each field
 * authorises at subscribe time and filters every event by its caller.
 */
@Resolver(() => TaskUpdate)
export class TaskUpdateResolver {
  @Subscription(() => TaskUpdate, {
    description: "Every transition of one task, in order: its agent's, or an operator's while the task is open or held by them",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, TaskArgs, Context>) => stream(context, await taskSource(context, args.taskId), args.afterEventId),
  })
  taskUpdated(
    @Root() update: TaskUpdate,
    @Arg("taskId", () => ID) _taskId: string,
    @Arg("afterEventId", () => ID, { nullable: true, description: RESUME }) _afterEventId?: string,
  ): TaskUpdate {
    return update;
  }

  @Subscription(() => TaskUpdate, {
    description: "Agents: every transition of every task of yours (in the key's mode), in order",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { afterEventId?: string | null }, Context>) => {
      const principal = requireAgent(context);
      const source: FeedSource = {
        topic: Topics.agent(principal.agentId),
        accepts: (e) => e.mode === principal.mode,
        replayWhere: { task: { agent: principal.agentId, mode: principal.mode } },
      };
      return stream(context, source, args.afterEventId);
    },
  })
  tasksUpdated(@Root() update: TaskUpdate, @Arg("afterEventId", () => ID, { nullable: true, description: RESUME }) _afterEventId?: string): TaskUpdate {
    return update;
  }

  @Subscription(() => TaskUpdate, {
    description:
      "Operators: tasks within radiusKm of a point (in the key's mode), as they open: when their reward is locked in escrow on chain and they can be accepted (kind ESCROW_FUNDED), again when the operator holding one gives it back (ACCEPTED → POSTED), and when its agent changes an open one (kind TASK_CHANGED: a raised reward, a later deadline, new title, description or requirements)",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, NearbyArgs, Context>) => stream(context, nearbySource(context, args), args.afterEventId),
  })
  taskPostedNearby(
    @Root() update: TaskUpdate,
    @Arg("near", () => GeoPointInput) _near: GeoPointInput,
    @Arg("radiusKm", () => Float) _radiusKm: number,
    @Arg("taskType", () => TaskType, { nullable: true }) _taskType?: TaskType,
    @Arg("afterEventId", () => ID, { nullable: true, description: RESUME }) _afterEventId?: string,
  ): TaskUpdate {
    return update;
  }

  @FieldResolver(() => Task, { nullable: true, description: "The task as it is now; null once you may no longer see it (another operator took it)" })
  async task(@Root() update: TaskUpdate, @Ctx() ctx: Context): Promise<Task | null> {
    try {
      if (ctx.principal?.kind === "operator") return await ctx.services.tasks.getForOperator(ctx.em, ctx.principal, update.taskId);
      return await ctx.services.tasks.getForAgent(ctx.em, requireAgent(ctx), update.taskId);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  }
}
