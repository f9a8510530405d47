import { Arg, Ctx, FieldResolver, Float, ID, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { GraphQLResolveInfo, SelectionSetNode } from "graphql";
import { ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAgent, requireOperator } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { Operator } from "../operators/operator.entity";
import { Proof } from "../proofs/proof.entity";
import { Verification } from "../guardian/verification.entity";
import { Location, Task, TaskX402Payment } from "./task.entity";
import { TaskEvent } from "./task-event.entity";
import { TaskEventKind, TaskType } from "./task.enums";
import { captureCodeRequirement } from "./capture-code";
import { GeoPointInput, type PhotoInput, PostTaskInput, ReviewDecision, SubmitProofInput, TaskFilter } from "./task.input";
import type { PhotoUpload } from "../proofs/proof.service";
import { AvailableTask, TaskConnection } from "./task.types";
import type { Page } from "./task.service";
import { BUDGET_NOTE, listOf, pagedCost } from "../graphql/query-budget";
import { MAX_PROOF_ATTEMPTS, MAX_TASK_EVENTS } from "./task.limits";
import { partsRead, readTaskParts } from "./task-parts";

/** The fields of Task that read other tables. */
const TASK_PARTS = new Set(["events", "proofs", "verification", "escrow", "operator", "tips", "ratings", "dispute"]);

/** Does the field being resolved select a field that `matches`, directly or through fragments? */
function selectsAny(info: GraphQLResolveInfo, matches: (field: string) => boolean): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    !!set?.selections.some((selection) => {
      if (selection.kind === "Field") return matches(selection.name.value);
      if (selection.kind === "InlineFragment") return visit(selection.selectionSet);
      return visit(info.fragments[selection.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => visit(node.selectionSet));
}

const MAX_PAGE = 100;
const MAX_RADIUS_KM = 500;

function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be from 1 to ${MAX_PAGE}`);
  return first;
}

function connection(page: Page<Task>): TaskConnection {
  return { nodes: page.nodes, totalCount: page.totalCount, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}

/** An operator sees what it is paid, not what the agent pays on top. */
function agentOnly(ctx: Context, money: bigint): Money | null {
  return ctx.principal?.kind === "operator" ? null : Money.of(money);
}

function decodeBase64(value: string, field: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new ValidationError(field, "must be base64");
  return Buffer.from(value, "base64");
}

/** The bytes of photos given inline (base64) or as files of the same request (PhotoInput.upload). */
export function readPhotoInputs(ctx: Context, photos: PhotoInput[]): PhotoUpload[] {
  return photos.map((photo, i) => {
    if ((photo.dataBase64 == null) === (photo.upload == null)) throw new ValidationError(`photos[${i}]`, "give exactly one of dataBase64 and upload");
    const uploaded = photo.upload != null ? ctx.uploads?.get(photo.upload) : undefined;
    if (photo.upload != null && !uploaded) throw new ValidationError(`photos[${i}].upload`, "names no file of this request");
    return {
      data: uploaded?.data ?? decodeBase64(photo.dataBase64!, `photos[${i}].dataBase64`),
      // A file of the request was hashed as it arrived: the proof does not hash it again.
      sha256: uploaded?.sha256,
      contentType: photo.contentType ?? uploaded?.contentType,
      filename: photo.filename ?? uploaded?.filename,
    };
  });
}

/** Can the caller see this task's proof? Its agent, and the operator holding it. */
function mayReadProof(ctx: Context, task: Task): boolean {
  // The platform's admins read the proof of the disputes they decide.
  if (ctx.admin) return true;
  const principal = ctx.principal;
  if (principal?.kind === "agent") return principal.agentId === task.agent.id;
  if (principal?.kind === "operator") return principal.operatorId === task.operator?.id;
  return false;
}

@Resolver(() => Task)
export class TaskResolver {
  // ── agents ──

  @Mutation(() => Task, { description: "Post a task; reward + fee move from the agent's balance into escrow" })
  async postTask(@Arg("input", () => PostTaskInput) input: PostTaskInput, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.tasks.post(ctx.em, requireAgent(ctx), input);
  }

  @Query(() => Task, { description: "One task: an agent's own, or for an operator an open task or one it holds" })
  async task(@Arg("id", () => ID) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Task> {
    // Only read by the field resolvers: a copy the ORM does not manage is enough, and far cheaper to make.
    const read = { readOnly: true };
    const task =
      ctx.principal?.kind === "operator" ? await ctx.services.tasks.getForOperator(ctx.em, ctx.principal, id, read) : await ctx.services.tasks.getForAgent(ctx.em, requireAgent(ctx), id, read);
    // A full read (REST's, MCP's) takes its events, proofs, verification and escrow in one more statement, not one each; the proofs'
    // photos take this task as theirs (their proof's relation to it is an unloaded reference, the task not being managed).
    if (selectsAny(info, (field) => TASK_PARTS.has(field))) await readTaskParts(ctx.em, task.id, task);
    return task;
  }

  @Query(() => TaskConnection, { description: `The agent's tasks, newest first, in pages of \`first\` (1 to 100). ${BUDGET_NOTE}`, complexity: pagedCost })
  async tasks(
    @Ctx() ctx: Context,
    @Arg("filter", () => TaskFilter, { nullable: true }) filter?: TaskFilter,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("after", () => String, { nullable: true, description: "Cursor from pageInfo.endCursor" }) after?: string,
    @Arg("offset", () => Int, { nullable: true, description: "Skip this many (instead of a cursor)" }) offset?: number,
  ): Promise<TaskConnection> {
    const principal = requireAgent(ctx);
    if (offset !== undefined && offset !== null && (offset < 0 || !Number.isInteger(offset))) {
      throw new ValidationError("offset", "must be a whole number >= 0");
    }
    return connection(await ctx.services.tasks.list(ctx.em, principal, filter ?? {}, pageSize(first), after ?? undefined, offset ?? undefined));
  }

  @Mutation(() => Task, {
    description: "Cancel a POSTED, ACCEPTED or REJECTED task (no proof waiting for a decision); everything in escrow goes back to the agent",
  })
  async cancelTask(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: Context,
    @Arg("reason", () => String, { nullable: true }) reason?: string,
  ): Promise<Task> {
    return ctx.services.tasks.cancel(ctx.em, requireAgent(ctx), id, reason ?? undefined);
  }

  @Mutation(() => Task, { description: "Decide on proof in MANUAL_REVIEW: APPROVE pays the operator, REJECT lets them resubmit" })
  async reviewTask(
    @Arg("id", () => ID) id: string,
    @Arg("decision", () => ReviewDecision) decision: ReviewDecision,
    @Ctx() ctx: Context,
    @Arg("reason", () => String, { nullable: true }) reason?: string,
  ): Promise<Task> {
    return ctx.services.tasks.review(ctx.em, requireAgent(ctx), id, decision === ReviewDecision.APPROVE, reason ?? undefined);
  }

  // ── operators ──

  @Query(() => [AvailableTask], { description: `Open tasks near a point, nearest first, at most \`first\` (1 to 100). ${BUDGET_NOTE}`, complexity: pagedCost })
  async availableTasks(
    @Arg("near", () => GeoPointInput) near: GeoPointInput,
    @Arg("radiusKm", () => Float) radiusKm: number,
    @Ctx() ctx: Context,
    @Arg("taskType", () => TaskType, { nullable: true }) taskType?: TaskType,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
  ): Promise<AvailableTask[]> {
    const principal = requireOperator(ctx);
    if (!(near.lat >= -90 && near.lat <= 90)) throw new ValidationError("near.lat", "must be between -90 and 90");
    if (!(near.lng >= -180 && near.lng <= 180)) throw new ValidationError("near.lng", "must be between -180 and 180");
    if (!(radiusKm > 0 && radiusKm <= MAX_RADIUS_KM)) throw new ValidationError("radiusKm", `must be greater than 0 and at most ${MAX_RADIUS_KM}`);
    return ctx.services.tasks.nearby(ctx.em, principal, near.lat, near.lng, radiusKm, pageSize(first), taskType ?? undefined);
  }

  @Mutation(() => Task, { description: "Claim an open task. Exactly one operator wins a race; the others get CONFLICT." })
  async acceptTask(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.tasks.accept(ctx.em, requireOperator(ctx), id);
  }

  @Query(() => TaskConnection, { description: `The tasks this operator holds or held (accepted, submitted, paid, ...), newest first, in pages of \`first\` (1 to 100). ${BUDGET_NOTE}`, complexity: pagedCost })
  async myTasks(
    @Ctx() ctx: Context,
    @Arg("filter", () => TaskFilter, { nullable: true }) filter?: TaskFilter,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("after", () => String, { nullable: true, description: "Cursor from pageInfo.endCursor" }) after?: string,
  ): Promise<TaskConnection> {
    return connection(await ctx.services.tasks.listForOperator(ctx.em, requireOperator(ctx), filter ?? {}, pageSize(first), after ?? undefined));
  }

  @Mutation(() => Task, {
    description: "Give up an ACCEPTED task you hold: it is POSTED again for others, its escrow stays funded, and the release is counted on your record (tasksReleased)",
  })
  async releaseTask(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: Context,
    @Arg("reason", () => String, { nullable: true, description: "Why, for the task's audit log (no personal data)" }) reason?: string,
  ): Promise<Task> {
    return ctx.services.tasks.release(ctx.em, requireOperator(ctx), id, reason ?? undefined);
  }

  @Mutation(() => Task, { description: "Submit photo proof for a task you hold; the Guardian scores it" })
  async submitProof(
    @Arg("taskId", () => ID) taskId: string,
    @Arg("input", () => SubmitProofInput) input: SubmitProofInput,
    @Ctx() ctx: Context,
  ): Promise<Task> {
    const principal = requireOperator(ctx);
    return ctx.services.proofs.submit(ctx.em, principal, taskId, readPhotoInputs(ctx, input.photos ?? []), input.notes);
  }

  // ── fields ──

  @FieldResolver(() => Money, { description: "Paid to the operator" })
  reward(@Root() task: Task): Money {
    return Money.of(task.rewardUnits);
  }

  @FieldResolver(() => Money, { nullable: true, description: "Platform fee, charged to the agent on top of the reward; null for operators" })
  fee(@Root() task: Task, @Ctx() ctx: Context): Money | null {
    return agentOnly(ctx, task.feeUnits);
  }

  @FieldResolver(() => Money, { nullable: true, description: "reward + fee: what the agent pays into escrow; null for operators" })
  total(@Root() task: Task, @Ctx() ctx: Context): Money | null {
    return agentOnly(ctx, task.totalUnits);
  }

  @FieldResolver(() => [String], { description: "What the proof must show; the operator holding the task also reads the capture code line (captureCode)" })
  proofRequirements(@Root() task: Task, @Ctx() ctx: Context): string[] {
    const code = mayReadProof(ctx, task) && ctx.principal?.kind === "operator" ? task.captureCode : null;
    return code ? [...task.proofRequirements, captureCodeRequirement(code)] : task.proofRequirements;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "Issued on acceptance, e.g. HX-4821: the operator shows it (on paper or a screen) in one photo, binding the proof to this task; a vision model checks it is legible. Only the task's agent and the operator holding it see it; null before acceptance",
  })
  captureCode(@Root() task: Task, @Ctx() ctx: Context): string | null {
    return mayReadProof(ctx, task) ? (task.captureCode ?? null) : null;
  }

  @FieldResolver(() => Location)
  location(@Root() task: Task): Location {
    return Object.assign(new Location(), { lat: task.lat, lng: task.lng, address: task.address });
  }

  @FieldResolver(() => Operator, { nullable: true, description: "The operator holding the task, once accepted" })
  async operator(@Root() task: Task, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Operator | null> {
    if (!task.operator) return null;
    // The task already holds its operator's id: `operator { id }` (REST's, MCP's) needs no read.
    if (!selectsAny(info, (field) => field !== "id" && field !== "__typename")) return task.operator;
    return (partsRead(ctx.em, task.id)?.operator as Operator | null | undefined) ?? ctx.em.findOneOrFail(Operator, task.operator.id);
  }

  @FieldResolver(() => [TaskEvent], {
    description: `Every transition, and the escrow being funded on chain, oldest first: the audit log (messages are read with \`messages\`). Costed as ${MAX_TASK_EVENTS} events (what the most proof attempts can produce).`,
    complexity: listOf(MAX_TASK_EVENTS),
  })
  async events(@Root() task: Task, @Ctx() ctx: Context): Promise<TaskEvent[]> {
    return partsRead(ctx.em, task.id)?.events ?? ctx.em.find(TaskEvent, { task: task.id, kind: { $ne: TaskEventKind.MESSAGE_POSTED } }, { orderBy: { id: "asc" } });
  }

  @FieldResolver(() => [Proof], {
    description: `Proof submissions, oldest first (the task's agent and operator only): one per attempt, at most ${MAX_PROOF_ATTEMPTS}.`,
    complexity: listOf(MAX_PROOF_ATTEMPTS),
  })
  async proofs(@Root() task: Task, @Ctx() ctx: Context): Promise<Proof[]> {
    if (!mayReadProof(ctx, task)) return [];
    return partsRead(ctx.em, task.id)?.proofs ?? ctx.em.find(Proof, { task: task.id }, { orderBy: { attempt: "asc" } });
  }

  @FieldResolver(() => Verification, { nullable: true, description: "The Guardian's latest score of this task's proof" })
  async verification(@Root() task: Task, @Ctx() ctx: Context): Promise<Verification | null> {
    if (!mayReadProof(ctx, task)) return null;
    const read = partsRead(ctx.em, task.id);
    return read ? read.verification : ctx.em.findOne(Verification, { task: task.id }, { orderBy: { createdAt: "desc" } });
  }

  @FieldResolver(() => TaskX402Payment, { nullable: true, description: "Set when the agent paid from its own wallet over x402 instead of its balance; refunds go back to that wallet. Null for operators" })
  x402Payment(@Root() task: Task, @Ctx() ctx: Context): TaskX402Payment | null {
    return ctx.principal?.kind === "operator" ? null : task.x402Payment;
  }
}
