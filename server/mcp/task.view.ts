import { z } from "zod";
import { Mode } from "../common/mode";
import { ActorType, TaskStatus, TaskType, TestScenario } from "../tasks/task.enums";

/**
 * The task as the MCP tools show it: snake_case like the REST API and the
 * product brief, money as exact USD decimal strings, and a `next_step` that
 * tells the model which tool moves the task on.
 */

/** What the agent can do about a task in each status; a new status fails to compile until it has a line here. */
const NEXT_STEP: Record<TaskStatus, string> = {
  [TaskStatus.POSTED]: "Waiting for a verified operator to accept it. Call wait_for_task to block until it moves on; cancel_task refunds everything.",
  [TaskStatus.ACCEPTED]: "An operator accepted it and is on the way. Call wait_for_task to be told when proof arrives.",
  [TaskStatus.SUBMITTED]: "Proof arrived and the AI Guardian is scoring it. Call wait_for_task.",
  [TaskStatus.MANUAL_REVIEW]:
    "The Guardian was unsure about the proof and nothing moves until you decide: read `verification`, then call review_proof with APPROVE (pays the operator) or REJECT (the operator may resubmit).",
  [TaskStatus.REJECTED]: "The proof was rejected; the operator may resubmit while attempts and time remain. Call wait_for_task.",
  [TaskStatus.VERIFIED]: "The proof is verified and the payout is settling. Call wait_for_task to see it PAID.",
  [TaskStatus.PAID]: "Done: the proof was verified and the operator paid. Nothing left to do.",
  [TaskStatus.CANCELLED]: "Cancelled: the reward and fee went back to your balance.",
  [TaskStatus.EXPIRED]: "Expired without verified proof: the reward and fee went back to your balance.",
};

export const TASK_FIELDS = `id status title description taskType mode attempts maxAttempts testScenario deadline proofRequirements createdAt updatedAt
  reward { usd } fee { usd } total { usd } location { lat lng address }
  verification { score verdict reasons }
  events { id fromStatus toStatus actorType actorId reason createdAt }`;

export const TASK_SUMMARY_FIELDS = `id status title taskType deadline createdAt updatedAt reward { usd } total { usd }`;

const usd = (what: string) => z.string().describe(`${what}, in USD (USDC) as an exact decimal string, e.g. "15.00"`);
const status = z.enum(TaskStatus);
const at = (what: string) => z.string().describe(`${what} (ISO-8601)`);

export const TaskEventSchema = z.object({
  event_id: z.string(),
  from_status: status.nullable().describe("Null for the event that created the task"),
  to_status: status,
  actor_type: z.enum(ActorType),
  actor_id: z.string().nullable(),
  reason: z.string().nullable(),
  at: at("When it happened"),
});

export const TaskSchema = z.object({
  task_id: z.string(),
  status,
  title: z.string(),
  description: z.string(),
  task_type: z.enum(TaskType),
  mode: z.enum(Mode).describe("TEST tasks use test money and mock operators; LIVE tasks are real"),
  location: z.object({ lat: z.number(), lng: z.number(), address: z.string().nullable() }),
  reward_usd: usd("Paid to the operator"),
  fee_usd: usd("Platform fee, on top of the reward"),
  total_usd: usd("reward + fee, held in escrow"),
  deadline: at("When the task expires"),
  proof_requirements: z.array(z.string()),
  attempts: z.number().int().describe("Proof submissions so far"),
  max_attempts: z.number().int(),
  test_scenario: z.enum(TestScenario).nullable(),
  verification: z
    .object({ score: z.number().int().describe("0-100"), verdict: z.string(), reasons: z.array(z.string()) })
    .nullable()
    .describe("The AI Guardian's latest score of the proof"),
  events: z.array(TaskEventSchema).describe("Every status change, oldest first"),
  created_at: at("When it was posted"),
  updated_at: at("When it last changed"),
  next_step: z.string().describe("What to do next"),
});
export type TaskView = z.infer<typeof TaskSchema>;

export const TaskSummarySchema = TaskSchema.pick({
  task_id: true,
  status: true,
  title: true,
  task_type: true,
  reward_usd: true,
  total_usd: true,
  deadline: true,
  created_at: true,
  updated_at: true,
});
export type TaskSummary = z.infer<typeof TaskSummarySchema>;

interface Usd {
  usd: string;
}

/** A task as TASK_SUMMARY_FIELDS selects it. */
export interface TaskSummaryData {
  id: string;
  status: TaskStatus;
  title: string;
  taskType: TaskType;
  deadline: string;
  createdAt: string;
  updatedAt: string;
  reward: Usd;
  total: Usd;
}

/** A task as TASK_FIELDS selects it. */
export interface TaskData extends TaskSummaryData {
  description: string;
  mode: Mode;
  attempts: number;
  maxAttempts: number;
  testScenario: TestScenario | null;
  proofRequirements: string[];
  fee: Usd;
  location: { lat: number; lng: number; address: string | null };
  verification: { score: number; verdict: string; reasons: string[] } | null;
  events: Array<{ id: string; fromStatus: TaskStatus | null; toStatus: TaskStatus; actorType: ActorType; actorId: string | null; reason: string | null; createdAt: string }>;
}

export function toTaskSummary(task: TaskSummaryData): TaskSummary {
  return {
    task_id: task.id,
    status: task.status,
    title: task.title,
    task_type: task.taskType,
    reward_usd: task.reward.usd,
    total_usd: task.total.usd,
    deadline: task.deadline,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}

export function toTaskView(task: TaskData): TaskView {
  return {
    ...toTaskSummary(task),
    description: task.description,
    mode: task.mode,
    location: task.location,
    fee_usd: task.fee.usd,
    proof_requirements: task.proofRequirements,
    attempts: task.attempts,
    max_attempts: task.maxAttempts,
    test_scenario: task.testScenario,
    verification: task.verification,
    events: task.events.map((event) => ({
      event_id: event.id,
      from_status: event.fromStatus,
      to_status: event.toStatus,
      actor_type: event.actorType,
      actor_id: event.actorId,
      reason: event.reason,
      at: event.createdAt,
    })),
    next_step: NEXT_STEP[task.status],
  };
}
