import { createHash } from "node:crypto";
import { leanRows, leanStatement, loadedEntity, readOnlyEntity, type LeanStatement } from "../db/lean";
import { raw, wrap, OptimisticLockError, UniqueConstraintViolationException, type ObjectQuery } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { lockForUpdate } from "../db/dialect";
import type { Config } from "../config";
import { systemClock, type Clock } from "../common/clock";
import { Mode } from "../common/mode";
import { formatUsd, feeFor } from "../common/money";
import { requiredText } from "../common/validate";
import {
  ConflictError,
  DeadlinePassedError,
  ForbiddenError,
  InsufficientFundsError,
  LimitExceededError,
  NotFoundError,
  ValidationError,
} from "../common/errors";
import { Agent } from "../agents/agent.entity";
import type { Principal } from "../agents/api-key.service";
import { Operator, KycStatus } from "../operators/operator.entity";
import { Accounts, type LedgerService } from "../ledger/ledger.service";
import { LedgerKind } from "../ledger/ledger-entry.entity";
import { enqueue } from "../jobs/job.queue";
import { SpendCaps } from "../agents/spend-caps";
import { fraudSource } from "../testmode/fraud.source";
import { Task } from "./task.entity";
import { issueCaptureCode } from "./capture-code";
import type { TaskEvent } from "./task-event.entity";
import { ActorType, TaskStatus, type TaskType, TestScenario } from "./task.enums";
import { EXPIRABLE_STATUSES } from "./task.state-machine";
import { created, escrowFunded, tipPaid, transition, SYSTEM, type Actor } from "./task.transition";
import { LIMITS, parseReward, validatePostTask, type PostTaskRequest } from "./task.validation";
import { JobKinds } from "../jobs/job.kinds";
import { assertMeetsMinimumRecord } from "../reputation/minimum-record";
import { Dispute } from "../disputes/dispute.entity";
import { DisputeDecision, DisputeStatus } from "../disputes/dispute.enums";
import { Admin } from "../admin/admin.entity";
import { AdminActions, type AdminPrincipal, type AdminService } from "../admin/admin.service";
import type { Terms } from "../chain/contracts";
import { TaskEvent as TaskEventRow } from "./task-event.entity";
import { TaskEventKind } from "./task.enums";
import { changedSinceAccepted, WITHDRAWN_AFTER_CHANGE } from "./task.withdraw";

export const TaskJobs = JobKinds.task;

/** The built-in mock operator's steps (server/testmode), queued as its test tasks move. */
export const TestModeJobs = JobKinds.testMode;

/**
 * Moves a task's money on chain (server/escrow). Each hook adds its rows to
 * the caller's unit of work, so the transfer it calls for commits with the
 * state change or not at all; the chain outbox sends it afterwards.
 */
export interface TaskSettlement {
  /** Refuses a mode with no chain to settle on (live mode without CHAIN_RPC_URL). */
  assertAvailable(mode: Mode): void;
  /** Posting: the escrow and its funding transaction. */
  open(em: Em, task: Task): void;
  /** Posting a task whose payer already funded its escrow on chain (x402 scheme "escrow"). */
  openFunded(em: Em, task: Task, funding: { chainTaskId: string; funder: string; txHash: string }): void;
  /** VERIFIED: the release to the operator. */
  release(em: Em, task: Task): void;
  /** CANCELLED / EXPIRED: the refund to the funding wallet. */
  refund(em: Em, task: Task): void;
  /** Accepting: the escrow must already be funded on chain. */
  assertFunded(em: Em, task: Task): Promise<void>;
  /** After posting commits: waits (bounded) for the funding to be mined, so the answer shows a funded escrow. */
  awaitFunded(em: Em, task: Task): Promise<void>;
}

/** A payment settled on chain for a task, by the agent's own wallet (server/x402). */
export interface TaskPayment {
  scheme: string;
  payer: string;
  transaction: string;
  /** The payer funded the task's escrow itself (scheme "escrow"), under this id on chain. */
  escrow?: { chainTaskId: string; funder: string };
}

/** Payment from an agent's own wallet over x402 (server/x402): the requirements a 402 carries, and settling a payment. */
export interface TaskPayments {
  /** The x402 requirements for posting a task that costs `cost`, with this deadline; undefined when the mode's chain takes no x402 payment. */
  required(mode: Mode, cost: CostBreakdown, deadline: Date): Promise<unknown>;
  /** Verifies the payment against `cost` and settles it on chain, or throws a 402 error; nothing is settled on a refusal. */
  settle(mode: Mode, payment: string, cost: CostBreakdown, deadline: Date): Promise<TaskPayment>;
}

/** A task's own webhook, given when it is posted (REST: callback_url / callback_secret). */
export interface TaskCallbackRequest {
  callbackUrl?: string | null;
  callbackSecret?: string | null;
}

/** Stores a task's callback (server/webhooks): checked before the posting transaction, written inside it. */
export interface TaskCallbacks {
  prepare(request: TaskCallbackRequest, mode: Mode): Promise<((em: Em, task: Task) => void) | undefined>;
}

export type AgentPrincipal = Extract<Principal, { kind: "agent" }>;
export type OperatorPrincipal = Extract<Principal, { kind: "operator" }>;

/**
 * How a read hands its task back. `readOnly`: for a query that only reads
 * it and never changes, persists or flushes it (the `task` query's
 * resolvers), a copy the ORM does not manage, made in microseconds rather
 * than the ~0.1 ms of a managed entity (server/db/lean.ts readOnlyEntity);
 * otherwise, and always inside a transaction, a managed entity.
 */
export interface ReadOptions {
  readOnly?: boolean;
}

export interface TaskListFilter {
  status?: TaskStatus;
  taskType?: TaskType;
}

export interface Page<T> {
  nodes: T[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor?: string;
}

/** What a task costs its agent: the reward, the platform fee on top, and what goes into escrow. */
export interface CostBreakdown {
  rewardUnits: bigint;
  feeUnits: bigint;
  totalUnits: bigint;
}

export interface NearbyTask {
  task: Task;
  distanceKm: number;
}

const EARTH_RADIUS_KM = 6371.0088;

/**
 * TaskEscrow refuses a release from deadline + grace period on. A held
 * release, and a platform's decision to release, leave this long before that
 * for the transaction to be mined.
 */
export const RELEASE_MARGIN_MS = 60 * 60_000;

function agentActor(principal: AgentPrincipal): Actor {
  return { type: ActorType.AGENT, id: principal.agentId };
}

function requestHash(request: PostTaskRequest): string {
  const canonical = JSON.stringify({ ...request, idempotencyKey: undefined, x402Payment: undefined, deadline: request.deadline.toISOString(), rewardUsd: String(request.rewardUsd) });
  return createHash("sha256").update(canonical).digest("hex");
}

function encodeCursor(task: Task): string {
  return Buffer.from(`${task.createdAt.getTime()}:${task.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [millis, id] = Buffer.from(cursor, "base64url").toString().split(":");
  const createdAt = new Date(Number(millis));
  if (!id || Number.isNaN(createdAt.getTime())) throw new ValidationError("after", "is not a cursor returned by this API");
  return { createdAt, id };
}

/**
 * The task marketplace: every command an agent or operator can give about a
 * task. Each command is one transaction: validation, authorisation, the
 * transition with its event, ledger postings and follow-up jobs commit
 * together or not at all.
 */
export class TaskService {
  private readonly caps: SpendCaps;

  constructor(
    private readonly config: Config,
    private readonly ledger: LedgerService,
    private readonly settlement: TaskSettlement,
    private readonly callbacks?: TaskCallbacks,
    /** Judges deadlines. */
    private readonly clock: Clock = systemClock,
    private readonly payments?: TaskPayments,
  ) {
    this.caps = new SpendCaps(config.spendCaps, clock);
  }

  // ── agents ────────────────────────────────────────────────────────────────

  /** The cost of posting a task with this reward, under the same rules as posting; nothing is reserved. */
  estimate(rewardUsd: string | number): CostBreakdown {
    return this.price(parseReward(rewardUsd, this.config));
  }

  async post(em: Em, principal: AgentPrincipal, request: PostTaskRequest & TaskCallbackRequest): Promise<Task> {
    const valid = validatePostTask(request, this.config);
    const hash = requestHash(request);
    if (valid.idempotencyKey) {
      const replay = await this.findIdempotent(em, principal, valid.idempotencyKey, hash);
      if (replay) return replay;
    }
    const testScenario = principal.mode === Mode.TEST ? (valid.testScenario ?? TestScenario.APPROVE) : undefined;
    if (principal.mode === Mode.LIVE && valid.testScenario) {
      throw new ForbiddenError("testScenario is only for test-mode keys (ho_test_...)");
    }
    if (testScenario === TestScenario.FRAUD && !(await fraudSource(em, principal.agentId))) {
      throw new ValidationError("testScenario", "FRAUD reuses a photo of one of your earlier test tasks with proof: post an APPROVE test task first and let it reach PAID");
    }
    this.settlement.assertAvailable(principal.mode);
    const attachCallback = await this.callbacks?.prepare(request, principal.mode);
    const cost = this.price(valid.rewardUnits);
    const paid = request.x402Payment ? await this.collectPayment(em, principal, request.x402Payment, cost, valid.deadline) : undefined;
    try {
      const task = await em.transactional(async (tx) => {
        const agent = await tx.findOneOrFail(Agent, principal.agentId, lockForUpdate(tx));
        const { idempotencyKey, ...terms } = valid;
        const task = new Task({
          ...terms,
          agent,
          mode: principal.mode,
          feeUnits: this.price(valid.rewardUnits).feeUnits,
          testScenario,
          idempotencyKey,
          requestHash: hash,
        });
        // The caps first: a 402 offers a payment only for a task that may be posted.
        await this.caps.check(tx, agent, principal.mode, task.totalUnits);
        if (paid) {
          task.paidBy = paid.payer;
          task.paymentScheme = paid.scheme;
          task.paymentTx = paid.transaction;
        } else {
          const available = await this.ledger.balance(tx, principal.mode, Accounts.agent(agent.id));
          if (available < task.totalUnits) {
            throw new InsufficientFundsError(formatUsd(task.totalUnits), formatUsd(available), await this.payments?.required(principal.mode, cost, task.deadline));
          }
        }
        tx.persist(task);
        created(tx, task, agentActor(principal));
        attachCallback?.(tx, task);
        if (paid) this.ledger.fundEscrowFromPayment(tx, task);
        else this.ledger.fundEscrow(tx, task);
        if (paid?.escrow) {
          this.settlement.openFunded(tx, task, { ...paid.escrow, txHash: paid.transaction });
          this.escrowFunded(tx, task, paid.transaction);
        } else {
          this.settlement.open(tx, task);
        }
        const expireAt = testScenario === TestScenario.EXPIRE ? Date.now() + this.config.testMode.stepDelayMs : task.deadline;
        enqueue(tx, TaskJobs.expire, { taskId: task.id }, { runAt: expireAt, dedupeKey: `expire:${task.id}` });
        return task;
      });
      await this.settlement.awaitFunded(em, task);
      return task;
    } catch (err) {
      // A payment to the funding wallet becomes the agent's balance; a direct one stays in TaskEscrow under its payer, who may reclaim it after deadline + grace.
      if (paid && !paid.escrow) await this.creditUnposted(em, principal, cost);
      // Two requests with one idempotency key raced: the loser answers with the winner's task.
      if (err instanceof UniqueConstraintViolationException && valid.idempotencyKey) {
        const replay = await this.findIdempotent(em.fork(), principal, valid.idempotencyKey, hash);
        if (replay) return replay;
      }
      throw err;
    }
  }

  /**
   * Settles an x402 payment for a task about to be posted. The spend caps
   * are checked first, so a payment is not taken for a task they refuse.
   */
  private async collectPayment(em: Em, principal: AgentPrincipal, payment: string, cost: CostBreakdown, deadline: Date): Promise<TaskPayment> {
    if (!this.payments) throw new ValidationError("x402Payment", "this server takes no x402 payments");
    const agent = await em.fork().findOneOrFail(Agent, principal.agentId);
    await this.caps.check(em.fork(), agent, principal.mode, cost.totalUnits);
    return this.payments.settle(principal.mode, payment, cost, deadline);
  }

  /** A settled `exact` payment whose task could not be posted after all (the caps moved, a storage failure): it becomes the agent's balance, never lost. */
  private async creditUnposted(em: Em, principal: AgentPrincipal, cost: CostBreakdown): Promise<void> {
    await em.fork().transactional(async (tx) => {
      this.ledger.post(tx, principal.mode, LedgerKind.DEPOSIT, Accounts.x402, Accounts.agent(principal.agentId), cost.totalUnits);
    });
  }

  /**
   * Calls a task off with a full refund: while it is POSTED or ACCEPTED, or
   * REJECTED with no new proof submitted. Proof waiting for a decision
   * (SUBMITTED, MANUAL_REVIEW) is decided first.
   */
  async cancel(em: Em, principal: AgentPrincipal, taskId: string, reason?: string): Promise<Task> {
    return this.command(em, taskId, async (tx, task) => {
      this.assertOwner(task, principal);
      if (task.status === TaskStatus.SUBMITTED || task.status === TaskStatus.MANUAL_REVIEW) {
        const next = task.status === TaskStatus.SUBMITTED ? "wait for the Guardian's score" : "decide it with reviewTask first";
        throw new ConflictError(`a ${task.status} task has proof waiting for a decision and cannot be cancelled: ${next} (a REJECTED task can be cancelled)`, {
          from: task.status,
          to: TaskStatus.CANCELLED,
        });
      }
      transition(tx, task, TaskStatus.CANCELLED, agentActor(principal), reason ?? "cancelled by the agent");
      this.refund(tx, task);
    });
  }

  /** The agent's decision on proof the Guardian sent to manual review. */
  async review(em: Em, principal: AgentPrincipal, taskId: string, approve: boolean, reason?: string): Promise<Task> {
    return this.command(em, taskId, async (tx, task) => {
      this.assertOwner(task, principal);
      if (task.status !== TaskStatus.MANUAL_REVIEW) {
        throw new ConflictError(`only a MANUAL_REVIEW task can be reviewed; this task is ${task.status}`, { status: task.status });
      }
      if (approve) this.verify(tx, task, agentActor(principal), reason ?? "approved by the agent on review");
      else this.reject(tx, task, agentActor(principal), reason ?? "rejected by the agent on review");
    });
  }

  async getForAgent(em: Em, principal: AgentPrincipal, taskId: string, options: ReadOptions = {}): Promise<Task> {
    const task = await this.find(em, taskId, options);
    this.assertOwner(task, principal);
    return task;
  }

  async list(em: Em, principal: AgentPrincipal, filter: TaskListFilter, first: number, after?: string, offset?: number): Promise<Page<Task>> {
    const lean = await leanPage(em, { column: "agent_id", id: principal.agentId, mode: principal.mode }, filter, first, after, offset);
    return lean ?? this.page(em, { agent: principal.agentId, mode: principal.mode }, filter, first, after, offset);
  }

  /** One page of `owned` tasks matching `filter`, newest first, from a cursor or an offset. */
  private async page(em: Em, owned: ObjectQuery<Task>, filter: TaskListFilter, first: number, after?: string, offset?: number): Promise<Page<Task>> {
    const where: ObjectQuery<Task> = { ...owned };
    if (filter.status) where.status = filter.status;
    if (filter.taskType) where.taskType = filter.taskType;
    const totalCount = await em.count(Task, where);
    const pageWhere: ObjectQuery<Task> = { ...where };
    if (after) {
      const cursor = decodeCursor(after);
      pageWhere.$or = [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }];
    }
    const rows = await em.find(Task, pageWhere, {
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      limit: first + 1,
      offset: after ? undefined : offset,
    });
    const nodes = rows.slice(0, first);
    return {
      nodes,
      totalCount,
      hasNextPage: rows.length > first,
      endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1]) : undefined,
    };
  }

  // ── operators ─────────────────────────────────────────────────────────────

  /** Open tasks of the operator's mode within `radiusKm` of a point, nearest first; the distance is computed in SQL. */
  async nearby(em: Em, principal: OperatorPrincipal, lat: number, lng: number, radiusKm: number, first: number, taskType?: TaskType): Promise<NearbyTask[]> {
    const latDelta = (radiusKm / EARTH_RADIUS_KM) * (180 / Math.PI);
    const cosLat = Math.cos((lat * Math.PI) / 180);
    const lngDelta = cosLat > 1e-6 ? latDelta / cosLat : 360;
    const distance =
      `2 * ${EARTH_RADIUS_KM} * asin(sqrt(` +
      `power(sin(radians(t.lat - ?) / 2), 2) + ` +
      `cos(radians(?)) * cos(radians(t.lat)) * power(sin(radians(t.lng - ?) / 2), 2)))`;
    const qb = em
      .createQueryBuilder(Task, "t")
      .select(["t.*"])
      .addSelect(raw(`${distance} as distance_km`, [lat, lat, lng]))
      .where({ status: TaskStatus.POSTED, mode: principal.mode, deadline: { $gt: new Date(this.clock.now()) } })
      .andWhere({ lat: { $gte: lat - latDelta, $lte: lat + latDelta } });
    // Skip the longitude box where it would wrap around the antimeridian.
    if (lng - lngDelta >= -180 && lng + lngDelta <= 180) qb.andWhere({ lng: { $gte: lng - lngDelta, $lte: lng + lngDelta } });
    if (taskType) qb.andWhere({ taskType });
    // Offered only while its money is locked on chain.
    qb.andWhere({ fundedAt: { $ne: null } });
    qb.andWhere(raw(`${distance} <= ?`, [lat, lat, lng, radiusKm]));
    qb.orderBy({ [raw("distance_km")]: "asc" }).limit(first);
    const rows = await qb.execute<Array<Record<string, unknown> & { distance_km: number | string }>>("all", false);
    return rows.map((row) => {
      const { distance_km, ...columns } = row;
      return { task: loadedEntity(em, Task, columns), distanceKm: Math.round(Number(distance_km) * 1000) / 1000 };
    });
  }

  async accept(em: Em, principal: OperatorPrincipal, taskId: string): Promise<Task> {
    return this.command(em, taskId, async (tx, task) => {
      const operator = await tx.findOneOrFail(Operator, principal.operatorId);
      if (task.mode !== principal.mode) throw new NotFoundError("task", taskId);
      if (task.mode === Mode.LIVE && operator.kycStatus !== KycStatus.APPROVED) {
        throw new ForbiddenError(`identity verification (KYC) must be approved before accepting live tasks; it is ${operator.kycStatus}`);
      }
      if (task.status === TaskStatus.POSTED && task.deadline.getTime() <= this.clock.now()) {
        throw new DeadlinePassedError("the task's deadline has passed");
      }
      if (task.status === TaskStatus.POSTED) await this.settlement.assertFunded(tx, task);
      if (task.status === TaskStatus.POSTED) await assertMeetsMinimumRecord(tx, task, operator);
      // A new code on every acceptance: a photo showing an earlier holder's code is not this operator's. Drawn before
      // the task changes: its lookup of tasks would otherwise flush the change first, and the code then take a second update.
      const captureCode = await issueCaptureCode(tx, task);
      transition(tx, task, TaskStatus.ACCEPTED, { type: ActorType.OPERATOR, id: operator.id });
      task.operator = operator;
      task.acceptedAt = new Date(this.clock.now());
      task.captureCode = captureCode;
      // The hold ends at the window's end if no proof has come; at the deadline the expiry job ends the task instead.
      const lapseAt = task.acceptedAt.getTime() + task.acceptWindowMinutes * 60_000;
      if (lapseAt < task.deadline.getTime()) {
        const acceptedAt = task.acceptedAt.getTime();
        enqueue(tx, TaskJobs.reservationLapse, { taskId: task.id, acceptedAt }, { runAt: lapseAt, dedupeKey: `lapse:${task.id}:${acceptedAt}` });
      }
    });
  }

  /**
   * The accept window of an acceptance ran out. If that acceptance still
   * holds the task and no proof came (it is still ACCEPTED), the task is
   * POSTED again for others, as when an operator gives it up, and the lapse
   * is counted on the operator's record (reservationsLapsed).
   */
  async lapseReservation(em: Em, taskId: string, acceptedAt: number): Promise<void> {
    const task = await em.findOne(Task, taskId, { populate: ["operator"] });
    if (!task?.operator || task.status !== TaskStatus.ACCEPTED || task.acceptedAt?.getTime() !== acceptedAt) return;
    this.reopen(em, task, task.operator, SYSTEM, `no proof within the accept window of ${task.acceptWindowMinutes} minutes`, "lapsed");
  }

  /**
   * The operator gives an accepted task up: it is POSTED again, open to
   * others, its escrow still funded; the release is counted on the
   * operator's record. A test task of a scenario goes back to the mock
   * operator.
   */
  async release(em: Em, principal: OperatorPrincipal, taskId: string, reason?: string): Promise<Task> {
    const why = reason?.trim() ? requiredText(reason, "reason", LIMITS.reasonChars) : "released by the operator";
    return this.command(em, taskId, async (tx, task) => {
      if (task.operator?.id !== principal.operatorId || task.mode !== principal.mode) throw new NotFoundError("task", taskId);
      if (task.status !== TaskStatus.ACCEPTED) {
        throw new ConflictError(`only an ACCEPTED task can be released; this task is ${task.status}`, { from: task.status, to: TaskStatus.POSTED });
      }
      const operator = await tx.findOneOrFail(Operator, principal.operatorId);
      // After the agent changed the task, giving it up is a withdrawal that does not count against the operator.
      if (await changedSinceAccepted(tx, task)) this.reopen(tx, task, operator, { type: ActorType.OPERATOR, id: operator.id }, `${WITHDRAWN_AFTER_CHANGE}: ${why}`.slice(0, 1000), "withdrawn");
      else this.reopen(tx, task, operator, { type: ActorType.OPERATOR, id: operator.id }, why, "released");
    });
  }

  /**
   * ACCEPTED → POSTED: the task is open again and the operator who held it
   * has it on their record: a release they chose (tasksReleased) or a
   * reservation that lapsed (reservationsLapsed). A task past its deadline
   * expires at once.
   */
  private reopen(em: Em, task: Task, operator: Operator, actor: Actor, reason: string, cause: "released" | "lapsed" | "withdrawn"): void {
    transition(em, task, TaskStatus.POSTED, actor, reason);
    task.operator = undefined;
    task.captureCode = null;
    task.acceptedAt = null;
    if (cause === "released") operator.tasksReleased += 1;
    else if (cause === "lapsed") operator.reservationsLapsed += 1;
    if (task.deadline.getTime() <= this.clock.now()) {
      transition(em, task, TaskStatus.EXPIRED, SYSTEM, "the deadline passed without verified proof");
      this.refund(em, task);
    } else {
      this.offerToMockOperator(em, task);
    }
  }

  /** The operator's own tasks (accepted, submitted, paid, ...), newest first. */
  async listForOperator(em: Em, principal: OperatorPrincipal, filter: TaskListFilter, first: number, after?: string): Promise<Page<Task>> {
    const lean = await leanPage(em, { column: "operator_id", id: principal.operatorId, mode: principal.mode }, filter, first, after);
    return lean ?? this.page(em, { operator: principal.operatorId, mode: principal.mode }, filter, first, after);
  }

  /** A task as an operator may see it: open tasks of its mode, and tasks it holds. */
  async getForOperator(em: Em, principal: OperatorPrincipal, taskId: string, options: ReadOptions = {}): Promise<Task> {
    const task = await this.find(em, taskId, options);
    const open = task.status === TaskStatus.POSTED && task.mode === principal.mode;
    if (!open && task.operator?.id !== principal.operatorId) throw new NotFoundError("task", taskId);
    return task;
  }

  // ── system ────────────────────────────────────────────────────────────────

  /** Ends a task whose deadline has passed (or a test task walking the EXPIRE branch) and refunds it. */
  async expire(em: Em, taskId: string): Promise<void> {
    const task = await em.findOne(Task, taskId);
    if (!task || !EXPIRABLE_STATUSES.includes(task.status)) return;
    const due = task.deadline.getTime() <= this.clock.now() || task.testScenario === TestScenario.EXPIRE;
    if (!due) return;
    transition(em, task, TaskStatus.EXPIRED, SYSTEM, "the deadline passed without verified proof");
    this.refund(em, task);
  }

  /**
   * The escrow is funded on chain: the task can be taken from now on. Its
   * event opens it to operators' live feeds (taskPostedNearby) and a test
   * task's mock operator comes. Touching the task makes this a
   * compare-and-set against a transition committing meanwhile (a cancel).
   * `fundedAt` follows the escrow whatever the task's status, so a task that
   * comes back to POSTED later (an operator's release) is offered as before.
   */
  escrowFunded(em: Em, task: Task, txHash: string): void {
    task.fundedAt = new Date();
    if (task.status !== TaskStatus.POSTED) return;
    task.updatedAt = new Date();
    escrowFunded(em, task, txHash);
    this.offerToMockOperator(em, task);
  }

  /** A tip for the task was mined to its operator: an event (TIP_PAID) tells both sides live and the agent's webhooks (task.tip_paid). */
  tipPaid(em: Em, task: Task, amount: bigint, txHash: string): void {
    task.updatedAt = new Date();
    tipPaid(em, task, formatUsd(amount), txHash);
  }

  /** The task's money is no longer locked on chain (released, refunded, or its escrow moved to another chain to be funded again): it is not offered to operators. */
  escrowEmptied(task: Task): void {
    task.fundedAt = null;
  }

  /** A test task walking a scenario is open: the mock operator comes to accept it. */
  private offerToMockOperator(em: Em, task: Task): void {
    if (this.mockWalks(task)) enqueue(em, TestModeJobs.accept, { taskId: task.id }, { runAt: Date.now() + this.config.testMode.stepDelayMs });
  }

  /** Whether the mock operator works this test task (every scenario but MANUAL and EXPIRE). */
  private mockWalks(task: Task): boolean {
    const scenario = task.testScenario;
    return task.mode === Mode.TEST && !!scenario && scenario !== TestScenario.MANUAL && scenario !== TestScenario.EXPIRE;
  }

  /** The escrow could not be funded on chain: a task still waiting for it is called off and the agent refunded (nothing left the funding wallet). */
  fundingFailed(em: Em, task: Task, reason: string): void {
    if (task.status !== TaskStatus.POSTED) return;
    transition(em, task, TaskStatus.CANCELLED, SYSTEM, `escrow funding failed on chain: ${reason}`.slice(0, 1000));
    this.ledger.refund(em, task);
  }

  /** The release to the operator is mined: the ledger records the payout and the fee, and the task is PAID. */
  paid(em: Em, task: Task, txHash: string): void {
    this.ledger.settle(em, task, task.operator!.id);
    transition(em, task, TaskStatus.PAID, SYSTEM, `paid ${formatUsd(task.rewardUnits)} USDC to the operator in transaction ${txHash}`);
  }

  /**
   * The escrow went back to the funder on chain without HumanOps asking (a
   * reclaim after deadline + grace): an open task ends EXPIRED and the agent
   * is refunded. Returns false when the task's status cannot follow.
   */
  returnedOnChain(em: Em, task: Task, reason: string): boolean {
    if (task.status === TaskStatus.DISPUTED) {
      // Nobody decided before deadline + grace: the chain did, for the agent.
      transition(em, task, TaskStatus.CANCELLED, SYSTEM, reason);
      this.ledger.refund(em, task);
      return true;
    }
    if (!EXPIRABLE_STATUSES.includes(task.status)) return false;
    transition(em, task, TaskStatus.EXPIRED, SYSTEM, reason);
    this.ledger.refund(em, task);
    return true;
  }

  /**
   * VERIFIED, with the release queued in the same transaction; or, for a
   * task with a review window (and `hold`), the release held until the
   * window ends (never past the escrow's release window), by a durable job.
   */
  verify(em: Em, task: Task, actor: Actor, reason: string, hold = true): TaskEvent {
    const event = transition(em, task, TaskStatus.VERIFIED, actor, reason);
    const heldUntil = hold ? this.releaseHoldEnd(task) : null;
    if (heldUntil) {
      task.releaseHeldUntil = heldUntil;
      enqueue(em, TaskJobs.releaseHold, { taskId: task.id }, { runAt: heldUntil.getTime(), dedupeKey: `hold:${task.id}` });
    } else {
      task.releaseHeldUntil = null;
      this.settlement.release(em, task);
    }
    return event;
  }

  /** When a release held for the task's review window from now goes out: null with no window, or no time left before the release cutoff. */
  private releaseHoldEnd(task: Task): Date | null {
    if (!task.reviewWindowMinutes) return null;
    const now = this.clock.now();
    const end = Math.min(now + task.reviewWindowMinutes * 60_000, this.releaseCutoff(task));
    return end > now ? new Date(end) : null;
  }

  /** The last moment HumanOps sends a release: the escrow's deadline + grace period, less RELEASE_MARGIN_MS. */
  private releaseCutoff(task: Task): number {
    return task.deadline.getTime() + this.config.chain.gracePeriodSeconds * 1000 - RELEASE_MARGIN_MS;
  }

  /**
   * A task's review window ran out without a dispute: its release goes out.
   * A task disputed meanwhile (no longer VERIFIED) is left alone.
   */
  async endReleaseHold(em: Em, taskId: string): Promise<void> {
    const task = await em.findOne(Task, taskId);
    if (!task || task.status !== TaskStatus.VERIFIED || !task.releaseHeldUntil) return;
    task.releaseHeldUntil = null;
    task.updatedAt = new Date();
    this.settlement.release(em, task);
  }

  /**
   * The agent disputes verified proof within the task's review window: the
   * task is DISPUTED, the release stays held, and only the platform decides
   * (decideDispute).
   */
  async dispute(em: Em, principal: AgentPrincipal, taskId: string, reason: string): Promise<Task> {
    const why = requiredText(reason, "reason", LIMITS.reasonChars);
    return this.command(em, taskId, async (tx, task) => {
      this.assertOwner(task, principal);
      if (task.status !== TaskStatus.VERIFIED || !task.releaseHeldUntil) {
        const rule = task.reviewWindowMinutes ? "within its review window" : "posted with reviewWindowMinutes, within that window";
        throw new ConflictError(`only a VERIFIED task whose release is held can be disputed (a task ${rule}); this task is ${task.status}${task.status === TaskStatus.VERIFIED ? " and its release already went out" : ""}`, {
          from: task.status,
          to: TaskStatus.DISPUTED,
        });
      }
      if (task.releaseHeldUntil.getTime() <= this.clock.now()) {
        throw new ConflictError(`the review window closed at ${task.releaseHeldUntil.toISOString()}; the release is going out`, { from: task.status, to: TaskStatus.DISPUTED });
      }
      transition(tx, task, TaskStatus.DISPUTED, agentActor(principal), why);
      task.releaseHeldUntil = null;
      tx.persist(new Dispute(task, why));
    });
  }

  /**
   * The platform's decision on a dispute, by an admin: RELEASE verifies the
   * task again and sends the release (refused once the escrow's release
   * window has closed), REFUND cancels it with the money back to the agent.
   * The dispute records the decision and the admin audit log the act.
   */
  async decideDispute(em: Em, admin: AdminPrincipal, admins: AdminService, taskId: string, decision: DisputeDecision, note: string): Promise<Task> {
    const why = requiredText(note, "note", LIMITS.reasonChars - 40);
    if (!Object.values(DisputeDecision).includes(decision)) throw new ValidationError("decision", `must be one of ${Object.values(DisputeDecision).join(", ")}`);
    return this.command(em, taskId, async (tx, task) => {
      if (task.status !== TaskStatus.DISPUTED) {
        throw new ConflictError(`only a DISPUTED task can be decided; this task is ${task.status}`, { status: task.status });
      }
      const dispute = await tx.findOneOrFail(Dispute, { task: task.id, status: DisputeStatus.OPEN });
      const by = await tx.findOneOrFail(Admin, admin.adminId);
      const actor: Actor = { type: ActorType.ADMIN, id: admin.adminId };
      if (decision === DisputeDecision.RELEASE) {
        const cutoff = this.releaseCutoff(task);
        if (cutoff <= this.clock.now()) {
          throw new ConflictError(`the escrow's release window closed at ${new Date(cutoff).toISOString()} (its deadline and grace period, less an hour to be mined): only REFUND is possible`, { decision });
        }
        this.verify(tx, task, actor, `dispute decided by the platform: release to the operator. ${why}`, false);
      } else {
        transition(tx, task, TaskStatus.CANCELLED, actor, `dispute decided by the platform: refund to the agent. ${why}`);
        this.refund(tx, task);
      }
      dispute.decide(decision, why, by);
      admins.audit(tx, by, AdminActions.DISPUTE_DECIDED, `${decision} of task ${task.id} (${formatUsd(task.rewardUnits)} USDC reward): ${why}`, task.id);
    });
  }

  /**
   * REJECTED, by the Guardian or by the agent on review; when no attempt or
   * no time is left the rejection is final and the task expires with a
   * refund in the same transaction. Otherwise the operator may resubmit (the
   * mock operator does, for a test task it holds) or the agent may cancel.
   */
  reject(em: Em, task: Task, actor: Actor, reason: string): void {
    transition(em, task, TaskStatus.REJECTED, actor, reason);
    if (task.attempts >= task.maxAttempts) {
      transition(em, task, TaskStatus.EXPIRED, SYSTEM, `final rejection: all ${task.maxAttempts} attempt(s) used`);
      this.refund(em, task);
    } else if (task.deadline.getTime() <= this.clock.now()) {
      transition(em, task, TaskStatus.EXPIRED, SYSTEM, "final rejection: the deadline has passed");
      this.refund(em, task);
    } else if (this.mockWalks(task)) {
      enqueue(em, TestModeJobs.submit, { taskId: task.id }, { runAt: Date.now() + this.config.testMode.stepDelayMs });
    }
  }

  assertCanSubmit(task: Task, principal: OperatorPrincipal): void {
    if (task.operator?.id !== principal.operatorId || task.mode !== principal.mode) throw new NotFoundError("task", task.id);
    if (task.status !== TaskStatus.ACCEPTED && task.status !== TaskStatus.REJECTED) {
      throw new ConflictError(`proof can be submitted for an ACCEPTED or REJECTED task; this task is ${task.status}`, { status: task.status });
    }
    if (task.attempts >= task.maxAttempts) {
      throw new LimitExceededError(`all ${task.maxAttempts} proof attempt(s) for this task are used`);
    }
    if (task.deadline.getTime() <= this.clock.now()) throw new DeadlinePassedError("the task's deadline has passed");
  }

  /**
   * A change of reward or deadline could not be made on chain: the task goes back to the terms its escrow
   * holds (the agent gets the raise back), recorded as a TASK_CHANGED event by the system.
   */
  changeUndone(em: Em, task: Task, terms: Terms, reason: string): void {
    const total = task.totalUnits;
    if (total > terms.amount) this.ledger.post(em, task.mode, LedgerKind.REFUND, Accounts.escrow(task.id), Accounts.agent(task.agent.id), total - terms.amount, task);
    task.rewardUnits = terms.amount - terms.fee;
    task.feeUnits = terms.fee;
    task.deadline = new Date(Number(terms.deadline) * 1000);
    task.updatedAt = new Date();
    // The expiry job of the restored deadline may have run while the task had a later one.
    enqueue(em, TaskJobs.expire, { taskId: task.id }, { runAt: task.deadline, dedupeKey: `expire:${task.id}:undone:${Date.now()}` });
    em.persist(new TaskEventRow(task, task.status, task.status, SYSTEM, reason.slice(0, 1000), TaskEventKind.TASK_CHANGED));
  }

  // ── shared ────────────────────────────────────────────────────────────────

  async find(em: Em, taskId: string, options: ReadOptions = {}): Promise<Task> {
    const task = /^[0-9a-f-]{36}$/i.test(taskId) ? await findTask(em, taskId, options.readOnly === true) : null;
    if (!task) throw new NotFoundError("task", taskId);
    return task;
  }

  /**
   * Runs one command on one task in a transaction. A concurrent change to the
   * same task surfaces as CONFLICT with the status it now has.
   */
  async command(em: Em, taskId: string, apply: (tx: Em, task: Task) => Promise<void>): Promise<Task> {
    try {
      const task = await em.transactional(async (tx) => {
        const task = await this.find(tx, taskId);
        await apply(tx, task);
        return task;
      });
      return task;
    } catch (err) {
      if (err instanceof OptimisticLockError) {
        const current = await em.fork().findOne(Task, taskId);
        throw new ConflictError(`the task changed while this request ran; it is now ${current?.status ?? "gone"}`, { status: current?.status });
      }
      throw err;
    }
  }

  /** Everything in escrow goes back to the agent's balance now; the chain refund follows through the outbox. */
  private refund(em: Em, task: Task): void {
    this.ledger.refund(em, task);
    this.settlement.refund(em, task);
  }

  private price(rewardUnits: bigint): CostBreakdown {
    const feeUnits = feeFor(rewardUnits, this.config.feeBps);
    return { rewardUnits, feeUnits, totalUnits: rewardUnits + feeUnits };
  }

  private assertOwner(task: Task, principal: AgentPrincipal): void {
    // Someone else's task is reported as missing, so ids cannot be probed.
    if (task.agent.id !== principal.agentId || task.mode !== principal.mode) throw new NotFoundError("task", task.id);
  }

  private async findIdempotent(em: Em, principal: AgentPrincipal, key: string, hash: string): Promise<Task | null> {
    const existing = await em.findOne(Task, { agent: principal.agentId, idempotencyKey: key });
    if (existing && existing.requestHash !== hash) {
      throw new ConflictError("this Idempotency-Key was already used with a different request body");
    }
    return existing;
  }
}

const TASK_BY_ID = leanStatement("task_by_id", "select * from tasks where id = ?");

/**
 * A task by id as em.findOne reads it (the identity map first), through a
 * prepared statement outside transactions; `readOnly`, read there, it is not
 * managed (readOnlyEntity): for a query that only reads it.
 */
async function findTask(em: Em, taskId: string, readOnly: boolean): Promise<Task | null> {
  const known = em.getUnitOfWork().getById<Task>(Task.name, taskId);
  if (known && wrap(known).isInitialized()) return known;
  const rows = await leanRows<Record<string, unknown>>(em, TASK_BY_ID, [taskId]);
  if (!rows) return em.findOne(Task, taskId);
  if (!rows[0]) return null;
  return readOnly ? readOnlyEntity(em, Task, rows[0]) : loadedEntity(em, Task, rows[0]);
}

/** The page statements, by shape (owner column, and which filters, cursor and offset are present), made once each. */
const pageStatements = new Map<string, { count: LeanStatement; rows: LeanStatement }>();

/**
 * TaskService.page through prepared statements: the same rows in the same
 * order (created_at, then id, both descending) and the same count. Resolves
 * undefined inside a transaction, where the ORM reads instead.
 */
async function leanPage(
  em: Em,
  owner: { column: "agent_id" | "operator_id"; id: string; mode: Mode },
  filter: TaskListFilter,
  first: number,
  after?: string,
  offset?: number,
): Promise<Page<Task> | undefined> {
  if (em.getTransactionContext()) return undefined;
  const cursor = after ? decodeCursor(after) : undefined;
  const useOffset = !cursor && offset !== undefined;
  const shape = `${owner.column}_${filter.status ? "s" : ""}${filter.taskType ? "t" : ""}${cursor ? "c" : ""}${useOffset ? "o" : ""}`;
  let statements = pageStatements.get(shape);
  if (!statements) {
    const where = `${owner.column} = ? and mode = ?${filter.status ? " and status = ?" : ""}${filter.taskType ? " and task_type = ?" : ""}`;
    statements = {
      count: leanStatement(`tasks_count_${shape}`, `select count(*) as n from tasks where ${where}`),
      rows: leanStatement(
        `tasks_page_${shape}`,
        `select * from tasks where ${where}${cursor ? " and (created_at < ? or (created_at = ? and id < ?))" : ""} order by created_at desc, id desc limit ?${useOffset ? " offset ?" : ""}`,
      ),
    };
    pageStatements.set(shape, statements);
  }
  const params: unknown[] = [owner.id, owner.mode, ...(filter.status ? [filter.status] : []), ...(filter.taskType ? [filter.taskType] : [])];
  const counted = await leanRows<{ n: number | string }>(em, statements.count, params);
  if (!counted) return undefined;
  // Times are stored as milliseconds on SQLite and as timestamptz on PostgreSQL.
  const time = (date: Date) => (isPostgres(em) ? date : date.getTime());
  const pageParams = [...params, ...(cursor ? [time(cursor.createdAt), time(cursor.createdAt), cursor.id] : []), first + 1, ...(useOffset ? [offset] : [])];
  const rows = (await leanRows<Record<string, unknown>>(em, statements.rows, pageParams))!;
  const nodes = rows.slice(0, first).map((row) => loadedEntity(em, Task, row));
  return {
    nodes,
    totalCount: Number(counted[0].n),
    hasNextPage: rows.length > first,
    endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1]) : undefined,
  };
}

function isPostgres(em: Em): boolean {
  return em.getPlatform().constructor.name.toLowerCase().includes("postgre");
}
