import type { z } from "zod";
import { TaskStatus } from "../api/enums";
import { presentTask, presentTaskSummary, TaskBriefView, type TaskDetailView, type GqlTask, type GqlTaskSummary } from "../api/task";

/**
 * The task as the MCP tools show it: the REST API's own presentation
 * (server/api/task.ts), so an agent sees one shape whichever way it
 * connects, in the views server/api declares for MCP hosts, plus a
 * `next_step` that names the tool that moves the task on.
 */

/** What the agent can do about a task in each status; a new status fails to compile until it has a line here. */
const NEXT_STEP: Record<TaskStatus, string> = {
  [TaskStatus.POSTED]: "Waiting for a verified operator to accept it. Call wait_for_task to block until it moves on; cancel_task refunds everything.",
  [TaskStatus.ACCEPTED]: "An operator accepted it and is on the way. Call wait_for_task to be told when proof arrives.",
  [TaskStatus.SUBMITTED]: "Proof arrived and the AI Guardian is scoring it. Call wait_for_task.",
  [TaskStatus.MANUAL_REVIEW]:
    "The Guardian was unsure about the proof and nothing moves until you decide: read its `verification` and `proof` with check_status, then call review_proof with APPROVE (pays the operator) or REJECT (the operator may resubmit).",
  [TaskStatus.REJECTED]: "The proof was rejected; the operator may resubmit while attempts and time remain. Call wait_for_task, or cancel_task for a full refund.",
  [TaskStatus.VERIFIED]:
    "The proof is verified and the payout is settling (after the review window, if the task has one: until release_held_until you may dispute_task with a reason). Call wait_for_task to see it PAID.",
  [TaskStatus.PAID]: "Done: the proof was verified and the operator paid. Nothing left to do.",
  [TaskStatus.CANCELLED]: "Cancelled: the reward and fee went back to your balance.",
  [TaskStatus.EXPIRED]: "Expired without verified proof: the reward and fee went back to your balance.",
  [TaskStatus.DISPUTED]: "You disputed the proof; HumanOps staff decide: release to the operator (PAID) or refund to your balance (CANCELLED). Call wait_for_task.",
};

export type TaskStep = z.infer<typeof TaskBriefView> & { next_step: string };
export type TaskView = ReturnType<typeof toTaskView>;
/** check_status's output, as its schema declares it. */
export type TaskDetail = z.infer<typeof TaskDetailView>;

/** A task as TASK_SUMMARY_SELECTION selects it, in brief (zod drops what the brief leaves out). */
export function toTaskBrief(task: GqlTaskSummary): z.infer<typeof TaskBriefView> {
  return TaskBriefView.parse(presentTaskSummary(task));
}

/** The brief of a task with its next step. */
export function toTaskStep(task: GqlTaskSummary): TaskStep {
  return { ...toTaskBrief(task), next_step: NEXT_STEP[task.status] };
}

/** A task as TASK_SELECTION selects it, with the tool's next step. */
export function toTaskView(task: GqlTask) {
  return { ...presentTask(task), next_step: NEXT_STEP[task.status] };
}
