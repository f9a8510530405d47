import { partsRead } from "./task-parts";
import { Arg, Ctx, Field, FieldResolver, ID, InputType, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { UsdAmountScalar } from "../graphql/scalars";
import { Task } from "./task.entity";
import { TaskTip } from "./task-tip.entity";
import { MAX_TASK_TIPS } from "./task.change";
import { changedSinceAccepted } from "./task.withdraw";
import { listOf } from "../graphql/query-budget";

@InputType({ description: "What to change: give only the fields that change. Text before acceptance; reward (up only) and deadline (later only) until proof is submitted" })
export class ChangeTaskInput {
  @Field(() => String, { nullable: true, description: "POSTED only; at most 200 characters" })
  title?: string;

  @Field(() => String, { nullable: true, description: "POSTED only; at most 5000 characters" })
  description?: string;

  @Field(() => [String], { nullable: true, description: "POSTED only; replaces the list" })
  proofRequirements?: string[];

  @Field(() => UsdAmountScalar, { nullable: true, description: "The new reward in USD, higher than the current one; the raise and its fee move from your balance into escrow" })
  rewardUsd?: string;

  @Field(() => Date, { nullable: true, description: "A later deadline, within the posting horizon" })
  deadline?: Date;

  @Field(() => String, { nullable: true, description: "Why, shown to the operator in the task's event" })
  reason?: string;
}

/** Changing a task and tipping its operator (server/tasks/task.change.ts). */
@Resolver(() => Task)
export class TaskChangeResolver {
  @Mutation(() => Task, {
    description:
      "Change your task: title, description, proofRequirements while POSTED; raise rewardUsd or extend the deadline while POSTED or ACCEPTED (the escrow is amended on chain). Each change is a TASK_CHANGED event the operator sees; an operator holding the task may then give it up without penalty",
  })
  async changeTask(@Arg("id", () => ID) id: string, @Arg("input", () => ChangeTaskInput) input: ChangeTaskInput, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.changes.change(ctx.em, requireAgent(ctx), id, input);
  }

  @Mutation(() => Task, { description: `Tip the operator of your PAID task (at most ${MAX_TASK_TIPS} tips): from your balance, paid on chain to the operator's payout address` })
  async tipTask(
    @Arg("id", () => ID) id: string,
    @Arg("amountUsd", () => UsdAmountScalar) amountUsd: string,
    @Ctx() ctx: Context,
    @Arg("note", () => String, { nullable: true, description: "A note to the operator" }) note?: string,
  ): Promise<Task> {
    return ctx.services.changes.tip(ctx.em, requireAgent(ctx), id, amountUsd, note);
  }

  @FieldResolver(() => [TaskTip], { description: "Tips the agent gave after the task was paid, oldest first (its agent and operator only)", complexity: listOf(MAX_TASK_TIPS) })
  async tips(@Root() task: Task, @Ctx() ctx: Context): Promise<TaskTip[]> {
    const principal = ctx.principal;
    const mine = (principal?.kind === "agent" && principal.agentId === task.agent.id) || (principal?.kind === "operator" && principal.operatorId === task.operator?.id);
    if (!mine) return [];
    return partsRead(ctx.em, task.id)?.tips ?? ctx.services.changes.tips(ctx.em, task.id);
  }

  @FieldResolver(() => Boolean, { description: "ACCEPTED and changed by the agent since it was accepted: the operator may give it up (releaseTask) without it counting against them" })
  async withdrawableWithoutPenalty(@Root() task: Task, @Ctx() ctx: Context): Promise<boolean> {
    return changedSinceAccepted(ctx.em, task);
  }
}

@Resolver(() => TaskTip)
export class TaskTipResolver {
  @FieldResolver(() => Money)
  amount(@Root() tip: TaskTip): Money {
    return Money.of(tip.amount);
  }
}
