import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { UnauthenticatedError } from "../common/errors";
import type { Context } from "../graphql/context";
import { Agent } from "../agents/agent.entity";
import { Operator } from "../operators/operator.entity";
import { Task } from "../tasks/task.entity";
import { Rating } from "./rating.entity";
import { partsRead } from "../tasks/task-parts";
import { AgentRecord, OperatorRecord } from "./reputation.types";
import { agentRecord, operatorRecord } from "./reputation.records";

/** Records read in one request, by whose and which mode: a page of open tasks from one agent reads its record once. */
const recordsOfRequest = new WeakMap<Context, Map<string, Promise<AgentRecord | OperatorRecord>>>();

function once<T extends AgentRecord | OperatorRecord>(ctx: Context, key: string, read: () => Promise<T>): Promise<T> {
  let records = recordsOfRequest.get(ctx);
  if (!records) recordsOfRequest.set(ctx, (records = new Map<string, Promise<AgentRecord | OperatorRecord>>()));
  let record = records.get(key);
  if (!record) records.set(key, (record = read()));
  return record as Promise<T>;
}

/** Rating the other side of a task, and what a task shows of reputation: both sides' ratings, its agent's record. */
@Resolver(() => Task)
export class ReputationResolver {
  @Mutation(() => Rating, {
    description:
      "Rate the other side of a task that ended (PAID, CANCELLED or EXPIRED) with an operator: an agent's key rates the operator, the operator's key the agent. Once per side; calling again within 24 hours changes the rating",
  })
  async rateTask(
    @Arg("taskId", () => ID) taskId: string,
    @Arg("score", () => Int, { description: "1 (worst) to 5 (best)" }) score: number,
    @Ctx() ctx: Context,
    @Arg("comment", () => String, { nullable: true, description: "At most 1000 characters, shown to the rated side" }) comment?: string,
  ): Promise<Rating> {
    if (!ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
    return ctx.services.reputation.rate(ctx.em, ctx.principal, taskId, { score, comment });
  }

  @FieldResolver(() => [Rating], { description: "Both sides' ratings of this task, oldest first (its agent and its operator only)" })
  async ratings(@Root() task: Task, @Ctx() ctx: Context): Promise<Rating[]> {
    return ctx.services.reputation.ratingsOfTask(ctx.em, ctx.principal, task, partsRead(ctx.em, task.id)?.ratings as Rating[] | undefined);
  }

  @FieldResolver(() => AgentRecord, { description: "The posting agent's record in the task's mode: what an operator weighs before accepting", complexity: 5 })
  async agentRecord(@Root() task: Task, @Ctx() ctx: Context): Promise<AgentRecord> {
    return once(ctx, `agent:${task.agent.id}:${task.mode}`, () => agentRecord(ctx.em, task.agent.id, task.mode));
  }
}

@Resolver(() => Operator)
export class OperatorRecordResolver {
  @FieldResolver(() => OperatorRecord, {
    nullable: true,
    description: "The operator's record in the key's mode (an agent reads it on the task's operator); null without a key",
    complexity: 5,
  })
  async record(@Root() operator: Operator, @Ctx() ctx: Context): Promise<OperatorRecord | null> {
    const mode = ctx.principal?.mode;
    return mode ? once(ctx, `operator:${operator.id}:${mode}`, () => operatorRecord(ctx.em, operator.id, mode)) : null;
  }
}

@Resolver(() => Agent)
export class AgentRecordResolver {
  @FieldResolver(() => AgentRecord, { nullable: true, description: "The agent's record in the key's mode, as operators see it on its tasks; null without a key", complexity: 5 })
  async record(@Root() agent: Agent, @Ctx() ctx: Context): Promise<AgentRecord | null> {
    const mode = ctx.principal?.mode;
    return mode ? once(ctx, `agent:${agent.id}:${mode}`, () => agentRecord(ctx.em, agent.id, mode)) : null;
  }
}
