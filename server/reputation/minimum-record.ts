import type { Em } from "../db/orm";
import { DomainError } from "../common/errors";
import type { Operator } from "../operators/operator.entity";
import type { Task } from "../tasks/task.entity";
import { completedTasks, ratingsOf } from "./reputation.records";

/** An operator below a task's minimum record: told which minimum, what it asks and what the operator has. */
export class MinimumRecordError extends DomainError {
  constructor(field: "minCompletedTasks" | "minRating", message: string, details: Record<string, unknown>) {
    super("FORBIDDEN", message, field, details);
  }
}

/**
 * Refuses an operator below the task's minimum record, saying which
 * minimum and what the operator has. The built-in mock operator of test
 * mode stands in for a qualified human and always meets it.
 */
export async function assertMeetsMinimumRecord(em: Em, task: Task, operator: Operator): Promise<void> {
  if (operator.isMock || (task.minCompletedTasks == null && task.minRating == null)) return;
  if (task.minCompletedTasks != null) {
    const completed = await completedTasks(em, operator.id, task.mode);
    if (completed < task.minCompletedTasks) {
      throw new MinimumRecordError(
        "minCompletedTasks",
        `this task is for operators with at least ${task.minCompletedTasks} completed task(s); you have completed ${completed}`,
        { required: task.minCompletedTasks, actual: completed },
      );
    }
  }
  if (task.minRating != null) {
    const { averageRating, ratingCount } = await ratingsOf(em, { operatorId: operator.id }, task.mode);
    if (averageRating === null || averageRating < task.minRating) {
      const yours = averageRating === null ? "no agent has rated you yet" : `yours is ${averageRating} from ${ratingCount} rating(s)`;
      throw new MinimumRecordError("minRating", `this task is for operators rated at least ${task.minRating} by agents; ${yours}`, { required: task.minRating, actual: averageRating });
    }
  }
}
