import type { Em } from "../db/orm";
import type { Task } from "./task.entity";
import { TaskEvent } from "./task-event.entity";
import { TaskEventKind, TaskStatus } from "./task.enums";

/**
 * The reason an operator's withdrawal after a change is recorded with (an ACCEPTED → POSTED event by the
 * operator whose reason starts with this): it is not counted against them (tasksReleased stays as it was).
 */
export const WITHDRAWN_AFTER_CHANGE = "withdrawn without penalty after the task changed";

/** Whether the operator holding an ACCEPTED task may give it up without penalty: the agent changed it after they accepted. */
export async function changedSinceAccepted(em: Em, task: Task): Promise<boolean> {
  if (task.status !== TaskStatus.ACCEPTED) return false;
  // Events are ordered by id (one sequence for all tasks), not by clock: a change after the latest acceptance.
  const accepted = await em.findOne(TaskEvent, { task: task.id, kind: TaskEventKind.STATUS_CHANGED, toStatus: TaskStatus.ACCEPTED }, { orderBy: { id: "desc" } });
  if (!accepted) return false;
  return (await em.count(TaskEvent, { task: task.id, kind: TaskEventKind.TASK_CHANGED, id: { $gt: accepted.id } })) > 0;
}
