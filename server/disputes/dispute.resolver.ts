import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAdmin, requireAgent } from "../graphql/auth";
import { Task } from "../tasks/task.entity";
import { Dispute } from "./dispute.entity";
import { Admin, AdminAuditEntry } from "../admin/admin.entity";
import { partsRead } from "../tasks/task-parts";
import { DisputeDecision, DisputeStatus } from "./dispute.enums";
import { AdminAuditConnection, DisputeConnection } from "./dispute.types";

const MAX_PAGE = 100;

function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be from 1 to ${MAX_PAGE}`);
  return first;
}

/** Who may see a task's dispute: its agent, the operator whose proof it is about, and the platform's admins. */
function mayReadDispute(ctx: Context, task: Task): boolean {
  if (ctx.admin) return true;
  if (ctx.principal?.kind === "agent") return ctx.principal.agentId === task.agent.id;
  if (ctx.principal?.kind === "operator") return ctx.principal.operatorId === task.operator?.id;
  return false;
}

@Resolver(() => Task)
export class TaskDisputeResolver {
  @Mutation(() => Task, {
    description: "Dispute verified proof while the task's release is held (releaseHeldUntil, from its reviewWindowMinutes): the task becomes DISPUTED and HumanOps staff decide release or refund",
  })
  async disputeTask(@Arg("id", () => ID) id: string, @Arg("reason", () => String, { description: "What is wrong with the proof (1-1000 characters)" }) reason: string, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.tasks.dispute(ctx.em, requireAgent(ctx), id, reason);
  }

  @FieldResolver(() => Dispute, { nullable: true, description: "The agent's dispute of the proof and the platform's decision, if the task was disputed" })
  async dispute(@Root() task: Task, @Ctx() ctx: Context): Promise<Dispute | null> {
    if (!mayReadDispute(ctx, task)) return null;
    const read = partsRead(ctx.em, task.id);
    return read ? (read.dispute as Dispute | null) : ctx.services.disputes.ofTask(ctx.em, task.id);
  }
}

@Resolver(() => Dispute)
export class DisputeResolver {
  @Query(() => DisputeConnection, { description: "Admins: disputes, oldest first (default the OPEN ones waiting for a decision), in pages of `first` (1 to 100)" })
  async disputes(
    @Ctx() ctx: Context,
    @Arg("status", () => DisputeStatus, { nullable: true, defaultValue: DisputeStatus.OPEN }) status: DisputeStatus | null,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("after", () => String, { nullable: true, description: "Cursor from pageInfo.endCursor" }) after?: string,
  ): Promise<DisputeConnection> {
    requireAdmin(ctx);
    const page = await ctx.services.disputes.list(ctx.em, status ?? undefined, pageSize(first), after ?? undefined);
    return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
  }

  @Mutation(() => Dispute, {
    description: "Admins: decide a DISPUTED task. RELEASE pays the operator (VERIFIED again, then PAID once mined); REFUND returns reward and fee to the agent (CANCELLED). Recorded with the note in the audit log",
  })
  async decideDispute(
    @Arg("taskId", () => ID) taskId: string,
    @Arg("decision", () => DisputeDecision) decision: DisputeDecision,
    @Arg("note", () => String, { description: "Why (1-960 characters); shown to the agent and the operator" }) note: string,
    @Ctx() ctx: Context,
  ): Promise<Dispute> {
    const admin = requireAdmin(ctx);
    const task = await ctx.services.tasks.decideDispute(ctx.em, admin, ctx.services.admins, taskId, decision, note);
    return (await ctx.services.disputes.ofTask(ctx.em, task.id))!;
  }

  @Query(() => AdminAuditConnection, { description: "Admins: the audit log of administrative acts, newest first" })
  async adminAuditLog(
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("before", () => String, { nullable: true, description: "Cursor from pageInfo.endCursor: entries older than it" }) before?: string,
  ): Promise<AdminAuditConnection> {
    requireAdmin(ctx);
    if (before != null && !/^[1-9][0-9]{0,18}$/.test(before)) throw new ValidationError("before", "is not a cursor returned by this API");
    const page = await ctx.services.admins.log(ctx.em, pageSize(first), before ?? undefined);
    return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.nodes.at(-1)?.id } };
  }

  @FieldResolver(() => Task, { description: "The disputed task (admins)" })
  async task(@Root() dispute: Dispute, @Ctx() ctx: Context): Promise<Task> {
    requireAdmin(ctx);
    return ctx.services.tasks.find(ctx.em, dispute.task.id);
  }

  @FieldResolver(() => Date, { description: "When the agent disputed" })
  openedAt(@Root() dispute: Dispute): Date {
    return dispute.createdAt;
  }

  @FieldResolver(() => String, { nullable: true, description: "The admin who decided (admins only; null otherwise, or when the chain ended it)" })
  async decidedBy(@Root() dispute: Dispute, @Ctx() ctx: Context): Promise<string | null> {
    if (!ctx.admin || !dispute.decidedBy) return null;
    // Read with the task's parts, the admin is a reference: its name is read when an admin asks for it.
    return (await ctx.em.findOneOrFail(Admin, dispute.decidedBy.id)).name;
  }
}


@Resolver(() => AdminAuditEntry)
export class AdminAuditEntryResolver {
  @FieldResolver(() => String, { nullable: true, description: "The admin who acted; null for the command line (creating or revoking an admin)" })
  adminName(@Root() entry: AdminAuditEntry): string | null {
    return entry.admin?.name ?? null;
  }
}
