import type { Em } from "../db/orm";
import { lockForUpdate } from "../db/dialect";
import type { Config } from "../config";
import { systemClock, type Clock } from "../common/clock";
import { feeFor, formatUsd, parseUsd } from "../common/money";
import { requiredText } from "../common/validate";
import { ConflictError, InsufficientFundsError, LimitExceededError, NotFoundError, ValidationError } from "../common/errors";
import { Agent } from "../agents/agent.entity";
import { SpendCaps } from "../agents/spend-caps";
import { Accounts, type LedgerService } from "../ledger/ledger.service";
import { LedgerKind } from "../ledger/ledger-entry.entity";
import { enqueue } from "../jobs/job.queue";
import { Escrow } from "../escrow/escrow.entity";
import type { Task } from "./task.entity";
import { TaskEvent } from "./task-event.entity";
import { TaskTip } from "./task-tip.entity";
import { ActorType, TaskEventKind, TaskStatus } from "./task.enums";
import { LIMITS, parseReward } from "./task.validation";
import type { AgentPrincipal, TaskService } from "./task.service";
import { JobKinds } from "../jobs/job.kinds";

const TaskJobs = JobKinds.task;

/** A task's changes are bounded, so its audit log (and the GraphQL budget's count of it) stays bounded. */
export const MAX_TASK_CHANGES = 10;
/** Tips per task. */
export const MAX_TASK_TIPS = 5;

/** What an agent may change. Text fields before acceptance; reward (up only) and deadline (later only) until proof is submitted. */
export interface TaskChangeRequest {
  title?: string | null;
  description?: string | null;
  proofRequirements?: string[] | null;
  rewardUsd?: string | number | null;
  deadline?: Date | null;
  reason?: string | null;
}

/** Moves a task's escrow on chain when its terms change (server/escrow/escrow.service.ts). */
export interface ChangeSettlement {
  amend(em: Em, task: Task): Promise<void>;
  tip(em: Em, task: Task, tipId: string, payee: string, amount: bigint): void;
}

const TEXT_STATUSES: readonly TaskStatus[] = [TaskStatus.POSTED];
const TERMS_STATUSES: readonly TaskStatus[] = [TaskStatus.POSTED, TaskStatus.ACCEPTED];

function text(value: string | null | undefined, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requiredText(value, field, max);
}

/**
 * Changing a task after it is posted, and tipping its operator after it is
 * paid. Each command is one transaction on the task (TaskService.command):
 * the change, its TASK_CHANGED (or TIPPED) event, the ledger postings and
 * the outbox row that makes the chain follow commit together.
 */
export class TaskChangeService {
  private readonly caps: SpendCaps;

  constructor(
    private readonly config: Config,
    private readonly tasks: TaskService,
    private readonly ledger: LedgerService,
    private readonly settlement: ChangeSettlement,
    private readonly clock: Clock = systemClock,
  ) {
    this.caps = new SpendCaps(config.spendCaps, clock);
  }

  async change(em: Em, principal: AgentPrincipal, taskId: string, request: TaskChangeRequest): Promise<Task> {
    const title = text(request.title, "title", LIMITS.titleChars);
    const description = text(request.description, "description", LIMITS.descriptionChars);
    let requirements: string[] | undefined;
    if (request.proofRequirements !== undefined && request.proofRequirements !== null) {
      if (!Array.isArray(request.proofRequirements)) throw new ValidationError("proofRequirements", "must be a list of strings");
      if (request.proofRequirements.length > LIMITS.requirements) throw new ValidationError("proofRequirements", `must have at most ${LIMITS.requirements} items`);
      requirements = request.proofRequirements.map((item, i) => requiredText(item, `proofRequirements[${i}]`, LIMITS.requirementChars));
    }
    const reward = request.rewardUsd === undefined || request.rewardUsd === null ? undefined : parseReward(request.rewardUsd, this.config);
    const deadline = request.deadline ?? undefined;
    if (deadline !== undefined && (!(deadline instanceof Date) || Number.isNaN(deadline.getTime()))) {
      throw new ValidationError("deadline", "must be an ISO-8601 date-time, e.g. 2026-02-07T18:00:00Z");
    }
    const why = request.reason?.trim() ? requiredText(request.reason, "reason", LIMITS.reasonChars) : undefined;
    if (title === undefined && description === undefined && requirements === undefined && reward === undefined && deadline === undefined) {
      throw new ValidationError("input", "name at least one of title, description, proofRequirements, rewardUsd, deadline");
    }

    return this.tasks.command(em, taskId, async (tx, task) => {
      this.assertOwner(task, principal);
      const changes: string[] = [];
      if (title !== undefined || description !== undefined || requirements !== undefined) {
        if (!TEXT_STATUSES.includes(task.status)) {
          throw new ConflictError(`title, description and proofRequirements can be changed only before the task is accepted; this task is ${task.status}`, { status: task.status });
        }
        if (title !== undefined && title !== task.title) {
          task.title = title;
          changes.push("title");
        }
        if (description !== undefined && description !== task.description) {
          task.description = description;
          changes.push("description");
        }
        if (requirements !== undefined && JSON.stringify(requirements) !== JSON.stringify(task.proofRequirements)) {
          task.proofRequirements = requirements;
          changes.push("proof requirements");
        }
      }
      let moneyOrTime = false;
      if (reward !== undefined || deadline !== undefined) {
        if (!TERMS_STATUSES.includes(task.status)) {
          throw new ConflictError(`the reward and deadline can be changed until proof is submitted (POSTED or ACCEPTED); this task is ${task.status}`, { status: task.status });
        }
        const now = this.clock.now();
        if (task.deadline.getTime() <= now) throw new ConflictError("the task's deadline has passed: it can no longer be changed");
        if (reward !== undefined && reward !== task.rewardUnits) {
          if (reward < task.rewardUnits) throw new ValidationError("rewardUsd", `can only be raised: it must be more than the current ${formatUsd(task.rewardUnits)} USD`);
          const feeUnits = feeFor(reward, this.config.feeBps);
          const raise = reward + feeUnits - task.totalUnits;
          const agent = await tx.findOneOrFail(Agent, principal.agentId, lockForUpdate(tx));
          const available = await this.ledger.balance(tx, principal.mode, Accounts.agent(agent.id));
          if (available < raise) throw new InsufficientFundsError(formatUsd(raise), formatUsd(available));
          await this.caps.checkExtra(tx, agent, principal.mode, raise, reward + feeUnits, "rewardUsd");
          changes.push(`reward ${formatUsd(task.rewardUnits)} → ${formatUsd(reward)} USD`);
          task.rewardUnits = reward;
          task.feeUnits = feeUnits;
          this.ledger.post(tx, task.mode, LedgerKind.ESCROW_FUND, Accounts.agent(agent.id), Accounts.escrow(task.id), raise, task);
          moneyOrTime = true;
        }
        if (deadline !== undefined && deadline.getTime() !== task.deadline.getTime()) {
          if (deadline.getTime() < task.deadline.getTime()) throw new ValidationError("deadline", `can only be extended: it must be later than the current ${task.deadline.toISOString()}`);
          const maxDeadline = now + this.config.tasks.maxDeadlineDays * 86_400_000;
          if (deadline.getTime() > maxDeadline) throw new ValidationError("deadline", `must be within ${this.config.tasks.maxDeadlineDays} days`);
          changes.push(`deadline ${task.deadline.toISOString()} → ${deadline.toISOString()}`);
          this.extendDeadline(tx, task, deadline);
          moneyOrTime = true;
        }
      }
      if (changes.length === 0) throw new ValidationError("input", "changes nothing: every value given is the task's current one");
      const made = await tx.count(TaskEvent, { task: task.id, kind: TaskEventKind.TASK_CHANGED });
      if (made >= MAX_TASK_CHANGES) throw new LimitExceededError(`a task can be changed at most ${MAX_TASK_CHANGES} times`);
      if (moneyOrTime) await this.settlement.amend(tx, task);
      task.updatedAt = new Date();
      const summary = `changed by the agent: ${changes.join("; ")}${why ? ` (${why})` : ""}`;
      tx.persist(new TaskEvent(task, task.status, task.status, { type: ActorType.AGENT, id: principal.agentId }, summary.slice(0, 1000), TaskEventKind.TASK_CHANGED));
    });
  }

  /** A bonus for the operator of a PAID task, booked now and paid on chain to the payout address its release paid. */
  async tip(em: Em, principal: AgentPrincipal, taskId: string, amountUsd: string | number, note?: string | null): Promise<Task> {
    if (amountUsd === undefined || amountUsd === null) throw new ValidationError("amountUsd", "is required");
    const amount = parseUsd(amountUsd, "amountUsd");
    if (amount <= 0n) throw new ValidationError("amountUsd", "must be greater than 0");
    if (amount > this.config.tasks.maxRewardUnits) throw new ValidationError("amountUsd", `must be at most ${formatUsd(this.config.tasks.maxRewardUnits)} USD`);
    const message = note?.trim() ? requiredText(note, "note", LIMITS.reasonChars) : undefined;
    return this.tasks.command(em, taskId, async (tx, task) => {
      this.assertOwner(task, principal);
      if (task.status !== TaskStatus.PAID || !task.operator) throw new ConflictError(`only a PAID task can be tipped; this task is ${task.status}`, { status: task.status });
      const escrow = await tx.findOne(Escrow, { task: task.id });
      if (!escrow?.payee) throw new ConflictError("the task's release has not been recorded yet; try again in a moment");
      if ((await tx.count(TaskTip, { task: task.id })) >= MAX_TASK_TIPS) throw new LimitExceededError(`a task can be tipped at most ${MAX_TASK_TIPS} times`);
      const agent = await tx.findOneOrFail(Agent, principal.agentId, lockForUpdate(tx));
      const available = await this.ledger.balance(tx, principal.mode, Accounts.agent(agent.id));
      if (available < amount) throw new InsufficientFundsError(formatUsd(amount), formatUsd(available));
      await this.caps.checkExtra(tx, agent, principal.mode, amount, amount, "amountUsd");
      const tip = new TaskTip(task, amount, escrow.payee, message);
      tx.persist(tip);
      this.ledger.post(tx, task.mode, LedgerKind.TIP, Accounts.agent(agent.id), Accounts.operator(task.operator.id), amount, task);
      this.settlement.tip(tx, task, tip.id, escrow.payee, amount);
      task.updatedAt = new Date();
      const reason = `tipped ${formatUsd(amount)} USDC by the agent${message ? `: ${message}` : ""}`;
      tx.persist(new TaskEvent(task, task.status, task.status, { type: ActorType.AGENT, id: principal.agentId }, reason.slice(0, 1000), TaskEventKind.TIPPED));
    });
  }

  /** The task's tips, oldest first. */
  async tips(em: Em, taskId: string): Promise<TaskTip[]> {
    return em.find(TaskTip, { task: taskId }, { orderBy: { createdAt: "asc", id: "asc" } });
  }

  /** A new deadline: a new expiry job (the one at the old deadline finds the task not due), and the accept window may now fall before it. */
  private extendDeadline(em: Em, task: Task, deadline: Date): void {
    const before = task.deadline.getTime();
    task.deadline = deadline;
    enqueue(em, TaskJobs.expire, { taskId: task.id }, { runAt: deadline, dedupeKey: `expire:${task.id}:${deadline.getTime()}` });
    if (task.status === TaskStatus.ACCEPTED && task.acceptedAt) {
      const acceptedAt = task.acceptedAt.getTime();
      const lapseAt = acceptedAt + task.acceptWindowMinutes * 60_000;
      if (lapseAt >= before && lapseAt < deadline.getTime()) {
        enqueue(em, TaskJobs.reservationLapse, { taskId: task.id, acceptedAt }, { runAt: lapseAt, dedupeKey: `lapse:${task.id}:${acceptedAt}` });
      }
    }
  }

  private assertOwner(task: Task, principal: AgentPrincipal): void {
    if (task.agent.id !== principal.agentId || task.mode !== principal.mode) throw new NotFoundError("task", task.id);
  }
}
