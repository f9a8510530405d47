import { UniqueConstraintViolationException } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import type { Clock } from "../common/clock";
import { systemClock } from "../common/clock";
import { ConflictError, NotFoundError, ValidationError } from "../common/errors";
import type { Principal } from "../agents/api-key.service";
import { Agent } from "../agents/agent.entity";
import { Operator } from "../operators/operator.entity";
import { Task } from "../tasks/task.entity";
import { TaskEvent } from "../tasks/task-event.entity";
import { ActorType, TaskEventKind } from "../tasks/task.enums";
import { isTerminal } from "../tasks/task.state-machine";
import { RATING } from "../api/limits";
import { Rating, RatingBy } from "./rating.entity";

export interface RatingRequest {
  score: number;
  comment?: string | null;
}

function validRating(request: RatingRequest): { score: number; comment: string | null } {
  const { score } = request;
  if (!Number.isInteger(score) || score < RATING.minScore || score > RATING.maxScore) {
    throw new ValidationError("score", `must be a whole number from ${RATING.minScore} to ${RATING.maxScore}`);
  }
  const comment = request.comment?.trim() ? request.comment.trim() : null;
  if (comment && comment.length > RATING.commentChars) throw new ValidationError("comment", `must be at most ${RATING.commentChars} characters`);
  return { score, comment };
}

/** The RATED event's reason: who rated whom and the score, never the comment (the event log is read more widely than the rating). */
function ratedReason(ratedBy: RatingBy, score: number, changed: boolean): string {
  const [rater, rated] = ratedBy === RatingBy.AGENT ? ["agent", "operator"] : ["operator", "agent"];
  return changed ? `the ${rater} changed its rating of the ${rated} to ${score} of 5` : `the ${rater} rated the ${rated} ${score} of 5`;
}

/**
 * Ratings both ways after a task ends. Each rating given or changed is a
 * task event (RATED, status unchanged) in the same transaction, so the
 * other side hears of it (taskUpdated, and the agent's webhooks as
 * task.rated when the operator rated it). The records they feed are
 * derived on read (reputation.records.ts) from status changes only; a
 * task's minimum record is checked on acceptance (minimum-record.ts).
 */
export class ReputationService {
  constructor(private readonly clock: Clock = systemClock) {}

  /**
   * The caller rates the other side of a task that has ended (PAID,
   * CANCELLED or EXPIRED) and had an operator: the agent rates its operator,
   * the operator the agent. Once per side; the same call changes the rating
   * for 24 hours after it was first given, and is refused after that.
   */
  async rate(em: Em, principal: Principal, taskId: string, request: RatingRequest): Promise<Rating> {
    const { score, comment } = validRating(request);
    const attempt = () =>
      em.transactional(async (tx) => {
        const task = /^[0-9a-f-]{36}$/i.test(taskId) ? await tx.findOne(Task, taskId) : null;
        const ratedBy = task && this.sideOf(principal, task);
        if (!task || !ratedBy) throw new NotFoundError("task", taskId);
        if (!isTerminal(task.status)) {
          throw new ConflictError(`a task can be rated once it has ended (PAID, CANCELLED or EXPIRED); this task is ${task.status}`, { status: task.status });
        }
        if (!task.operator) throw new ConflictError("this task ended without an operator accepting it: there is nobody to rate");
        const existing = await tx.findOne(Rating, { task: task.id, ratedBy });
        const actor = ratedBy === RatingBy.AGENT ? { type: ActorType.AGENT, id: task.agent.id } : { type: ActorType.OPERATOR, id: task.operator.id };
        const event = (changed: boolean) => {
          tx.persist(new TaskEvent(task, task.status, task.status, actor, ratedReason(ratedBy, score, changed), TaskEventKind.RATED));
        };
        if (!existing) {
          const rating = new Rating(task, ratedBy, tx.getReference(Agent, task.agent.id), tx.getReference(Operator, task.operator.id), score, comment);
          rating.createdAt = rating.updatedAt = new Date(this.clock.now());
          tx.persist(rating);
          event(false);
          return rating;
        }
        if (this.clock.now() > existing.editableUntil.getTime()) {
          throw new ConflictError(
            `your rating of this task was given at ${existing.createdAt.toISOString()} and could be changed until ${existing.editableUntil.toISOString()}; it can no longer be changed`,
            { editableUntil: existing.editableUntil.toISOString() },
          );
        }
        // The same rating sent again (a retry) changes nothing and tells nobody.
        if (existing.score === score && existing.comment === comment) return existing;
        existing.score = score;
        existing.comment = comment;
        event(true);
        return existing;
      });
    let rating: Rating;
    try {
      rating = await attempt();
    } catch (err) {
      // Two first ratings raced: the loser's becomes a change of the winner's.
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      rating = await attempt();
    }
    return rating;
  }

  /** Both sides' ratings of a task, for its agent and its operator only. */
  /** `read`: the task's ratings when this request already read them with the task's parts. */
  async ratingsOfTask(em: Em, principal: Principal | undefined, task: Task, read?: Rating[]): Promise<Rating[]> {
    if (!principal || !this.sideOf(principal, task)) return [];
    return read ?? em.find(Rating, { task: task.id }, { orderBy: { createdAt: "asc" } });
  }

  /** Which side of the task the caller is (the agent rates as AGENT, the operator who held it as OPERATOR); null for anyone else. */
  private sideOf(principal: Principal, task: Task): RatingBy | null {
    if (principal.mode !== task.mode) return null;
    if (principal.kind === "agent" && principal.agentId === task.agent.id) return RatingBy.AGENT;
    if (principal.kind === "operator" && principal.operatorId === task.operator?.id) return RatingBy.OPERATOR;
    return null;
  }
}
