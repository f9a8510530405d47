import type { Em } from "../db/orm";
import { dialectOf } from "../db/dialect";
import { leanRows, leanStatement, type LeanStatement } from "../db/lean";
import type { Mode } from "../common/mode";
import { ActorType, CheckName, CheckOutcome, RatingBy, TaskEventKind, TaskStatus } from "../api/enums";
import type { AgentRecord, OperatorRecord } from "./reputation.types";

/**
 * The records, derived from what happened: tasks and their events (the
 * audit log every transition writes), the Guardian's checks and the
 * ratings. Plain SQL that reads the same on SQLite and PostgreSQL; every
 * count is of one mode, so test tasks never build a live record.
 */

/** The status the dispute feature gives a task an agent disputes after VERIFIED; counted here by name. */
const DISPUTED = "DISPUTED";

/** The Guardian's checks that catch fraud rather than a poor photo: reuse of another proof's photo, a place far off, a time before acceptance. */
const FRAUD_CHECKS: readonly string[] = [CheckName.REUSE, CheckName.LOCATION, CheckName.TIME];

type Row = Record<string, unknown>;

/** Each statement below (by its text: a few, one per dialect at most), prepared once per connection. */
const statements = new Map<string, LeanStatement>();

async function rows(em: Em, sql: string, params: unknown[]): Promise<Row[]> {
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = leanStatement(`record_${statements.size}`, sql)));
  // em.execute runs inside the caller's transaction when there is one (an acceptance checking the minimum record).
  return (await leanRows<Row>(em, statement, params)) ?? em.execute<Row[]>(sql, params, "all");
}

const count = (value: unknown): number => Number(value ?? 0);
const share = (part: number, whole: number): number | null => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);
const mean = (value: unknown): number | null => (value === null || value === undefined ? null : Math.round(Number(value) * 100) / 100);
/** A time as SQLite (milliseconds) or PostgreSQL (a Date) gives it. */
const millis = (value: unknown): number => new Date(value as string | number | Date).getTime();

/** Completed (PAID) tasks of an operator: what a task's minCompletedTasks is compared with. */
export async function completedTasks(em: Em, operatorId: string, mode: Mode): Promise<number> {
  const [row] = await rows(em, "select count(*) as n from tasks where operator_id = ? and mode = ? and status = ?", [operatorId, mode, TaskStatus.PAID]);
  return count(row.n);
}

/** The mean and number of the ratings one side was given, in one mode. */
export async function ratingsOf(em: Em, side: { operatorId: string } | { agentId: string }, mode: Mode): Promise<{ averageRating: number | null; ratingCount: number }> {
  const [column, id, by] = "operatorId" in side ? ["operator_id", side.operatorId, RatingBy.AGENT] : ["agent_id", side.agentId, RatingBy.OPERATOR];
  const [row] = await rows(
    em,
    `select count(*) as n, avg(r.score) as average from ratings r join tasks t on t.id = r.task_id where r.${column} = ? and r.rated_by = ? and t.mode = ?`,
    [id, by, mode],
  );
  return { averageRating: count(row.n) ? mean(row.average) : null, ratingCount: count(row.n) };
}

/**
 * An operator's whole record in one statement (it is shown with every full
 * read of a task, so it costs one round trip, not five):
 *
 * - How each acceptance ended: the first status change that moved the task
 *   out of ACCEPTED after it. Proof (SUBMITTED) is on time; a reservation
 *   that lapsed (back to POSTED by the system) or the deadline passing
 *   (EXPIRED) is late; a release (back to POSTED by the operator) is a
 *   cancellation after accepting, unless the agent changed the task between
 *   the acceptance and the release (a TASK_CHANGED event: the operator may
 *   then withdraw without penalty). An agent's cancel is on nobody's record.
 *   Only status changes are acceptances: the operator's messages while
 *   holding the task (and any other event that keeps the status, such as
 *   RATED) are not.
 * - Of the tasks whose proof was decided, how many were approved on the
 *   first decision (the first VERIFIED or REJECTED status change).
 * - The Guardian's verifications with a FAIL somewhere (only those are read
 *   and parsed, for the fraud checks), and the agents' ratings.
 */
export async function operatorRecord(em: Em, operatorId: string, mode: Mode): Promise<OperatorRecord> {
  const failedChecks = dialectOf(em.getPlatform()) === "postgresql" ? "json_agg(v.checks)" : "json_group_array(json(v.checks))";
  const STATUS = TaskEventKind.STATUS_CHANGED;
  const [row] = await rows(
    em,
    `with acceptances as (
       select l.to_status as outcome, l.actor_type as actor,
              case when exists (select 1 from task_events c where c.task_id = a.task_id and c.kind = ? and c.id > a.id and c.id < l.id) then 1 else 0 end as changed
         from task_events a
         join tasks t on t.id = a.task_id
         join task_events l on l.id = (
           select min(n.id) from task_events n
            where n.task_id = a.task_id and n.id > a.id and n.kind = ? and n.from_status = ? and n.to_status <> ?)
        where a.actor_id = ? and a.to_status = ? and a.actor_type = ? and a.kind = ? and t.mode = ?),
     decisions as (
       select e.to_status as outcome
         from task_events e
         join (select f.task_id, min(f.id) as first_id
                 from task_events f join tasks t on t.id = f.task_id
                where t.operator_id = ? and t.mode = ? and f.kind = ? and f.to_status in (?, ?)
                group by f.task_id) firsts on e.id = firsts.first_id)
     select
       (select count(*) from tasks where operator_id = ? and mode = ? and status = ?) as completed,
       (select count(*) from acceptances where outcome = ?) as on_time,
       (select count(*) from acceptances where outcome = ?) as expired,
       (select count(*) from acceptances where outcome = ? and actor = ?) as lapsed,
       (select count(*) from acceptances where outcome = ? and actor = ? and changed = 0) as released,
       (select count(*) from decisions where outcome = ?) as approved,
       (select count(*) from decisions) as decided,
       (select ${failedChecks} from verifications v join tasks t on t.id = v.task_id where t.operator_id = ? and t.mode = ? and cast(v.checks as text) like ?) as failed_checks,
       (select count(*) from ratings r join tasks t on t.id = r.task_id where r.operator_id = ? and r.rated_by = ? and t.mode = ?) as rating_count,
       (select avg(r.score) from ratings r join tasks t on t.id = r.task_id where r.operator_id = ? and r.rated_by = ? and t.mode = ?) as rating_average`,
    [
      ...[TaskEventKind.TASK_CHANGED, STATUS, TaskStatus.ACCEPTED, TaskStatus.ACCEPTED, operatorId, TaskStatus.ACCEPTED, ActorType.OPERATOR, STATUS, mode],
      ...[operatorId, mode, STATUS, TaskStatus.VERIFIED, TaskStatus.REJECTED],
      ...[operatorId, mode, TaskStatus.PAID],
      TaskStatus.SUBMITTED,
      TaskStatus.EXPIRED,
      ...[TaskStatus.POSTED, ActorType.SYSTEM],
      ...[TaskStatus.POSTED, ActorType.OPERATOR],
      TaskStatus.VERIFIED,
      ...[operatorId, mode, `%${CheckOutcome.FAIL}%`],
      ...[operatorId, RatingBy.AGENT, mode],
      ...[operatorId, RatingBy.AGENT, mode],
    ],
  );
  const parse = (value: unknown): unknown => (typeof value === "string" ? JSON.parse(value) : value);
  const failed = ((parse(row.failed_checks) ?? []) as unknown[]).map((checks) => parse(checks) as Array<{ name: string; outcome: string }>);
  const fraud = failed.filter((checks) => checks.some((check) => check.outcome === CheckOutcome.FAIL && FRAUD_CHECKS.includes(check.name))).length;
  const onTime = count(row.on_time);
  const lapsed = count(row.lapsed);
  const late = count(row.expired) + lapsed;
  const ratingCount = count(row.rating_count);
  return {
    completedTasks: count(row.completed),
    firstAttemptApprovalRate: share(count(row.approved), count(row.decided)),
    onTimeRate: share(onTime, onTime + late),
    cancellationsAfterAccepting: count(row.released),
    fraudCheckFailures: fraud,
    reservationsLapsed: lapsed,
    averageRating: ratingCount ? mean(row.rating_average) : null,
    ratingCount,
  };
}

/** Of the agent's tasks that reached VERIFIED, how many it disputed. */
async function disputes(em: Em, agentId: string, mode: Mode): Promise<{ verified: number; disputed: number }> {
  const [row] = await rows(
    em,
    `select count(distinct case when e.to_status = ? then e.task_id end) as verified,
            count(distinct case when e.to_status = ? then e.task_id end) as disputed
       from task_events e join tasks t on t.id = e.task_id
      where t.agent_id = ? and t.mode = ? and e.to_status in (?, ?)`,
    [TaskStatus.VERIFIED, DISPUTED, agentId, mode, TaskStatus.VERIFIED, DISPUTED],
  );
  return { verified: count(row.verified), disputed: count(row.disputed) };
}

/** Each decided manual review of the agent's tasks: when the proof entered MANUAL_REVIEW and when it left. */
async function manualReviews(em: Em, agentId: string, mode: Mode): Promise<{ decided: number; meanSeconds: number | null }> {
  const reviews = await rows(
    em,
    `select m.created_at as entered, d.created_at as decided
       from task_events d
       join tasks t on t.id = d.task_id
       join task_events m on m.id = (
         select max(p.id) from task_events p where p.task_id = d.task_id and p.id < d.id and p.kind = ? and p.to_status = ?)
      where t.agent_id = ? and t.mode = ? and d.kind = ? and d.from_status = ? and d.to_status <> ?`,
    [TaskEventKind.STATUS_CHANGED, TaskStatus.MANUAL_REVIEW, agentId, mode, TaskEventKind.STATUS_CHANGED, TaskStatus.MANUAL_REVIEW, TaskStatus.MANUAL_REVIEW],
  );
  if (!reviews.length) return { decided: 0, meanSeconds: null };
  const totalMs = reviews.reduce((sum, row) => sum + Math.max(0, millis(row.decided) - millis(row.entered)), 0);
  return { decided: reviews.length, meanSeconds: Math.round(totalMs / reviews.length / 1000) };
}

export async function agentRecord(em: Em, agentId: string, mode: Mode): Promise<AgentRecord> {
  const [paid, disputed, reviews, ratings] = await Promise.all([
    rows(em, "select count(*) as n from tasks where agent_id = ? and mode = ? and status = ?", [agentId, mode, TaskStatus.PAID]),
    disputes(em, agentId, mode),
    manualReviews(em, agentId, mode),
    ratingsOf(em, { agentId }, mode),
  ]);
  return {
    tasksPaid: count(paid[0].n),
    paymentDisputeRate: share(disputed.disputed, disputed.verified),
    manualReviewsDecided: reviews.decided,
    meanManualReviewSeconds: reviews.meanSeconds,
    ...ratings,
  };
}
