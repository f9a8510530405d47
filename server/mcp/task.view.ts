import { z } from "zod";
import type { Mode } from "../common/mode";
import { ActorType, TaskEventKind, TaskStatus, TaskType, TestScenario } from "../tasks/task.enums";

/**
 * The task as the MCP tools show it: the same fields and names as the REST
 * API (server/rest/task.presenter.ts), so an agent sees one shape whichever
 * way it connects, plus a `next_step` that names the tool that moves the
 * task on.
 */

/** What the agent can do about a task in each status; a new status fails to compile until it has a line here. */
const NEXT_STEP: Record<TaskStatus, string> = {
  [TaskStatus.POSTED]: "Waiting for a verified operator to accept it. Call wait_for_task to block until it moves on; cancel_task refunds everything.",
  [TaskStatus.ACCEPTED]: "An operator accepted it and is on the way. Call wait_for_task to be told when proof arrives.",
  [TaskStatus.SUBMITTED]: "Proof arrived and the AI Guardian is scoring it. Call wait_for_task.",
  [TaskStatus.MANUAL_REVIEW]:
    "The Guardian was unsure about the proof and nothing moves until you decide: read `verification` and `proof`, then call review_proof with APPROVE (pays the operator) or REJECT (the operator may resubmit).",
  [TaskStatus.REJECTED]: "The proof was rejected; the operator may resubmit while attempts and time remain. Call wait_for_task.",
  [TaskStatus.VERIFIED]: "The proof is verified and the payout is settling. Call wait_for_task to see it PAID.",
  [TaskStatus.PAID]: "Done: the proof was verified and the operator paid. Nothing left to do.",
  [TaskStatus.CANCELLED]: "Cancelled: the reward and fee went back to your balance.",
  [TaskStatus.EXPIRED]: "Expired without verified proof: the reward and fee went back to your balance.",
};

export const TASK_SUMMARY_FIELDS = `id status mode title description taskType deadline proofRequirements attempts maxAttempts testScenario createdAt updatedAt
  location { lat lng address } reward { usd } fee { usd } total { usd }`;

export const TASK_FIELDS = `${TASK_SUMMARY_FIELDS}
  operator { id }
  events { id kind fromStatus toStatus actorType actorId reason createdAt }
  proofs { attempt notes createdAt photos { contentType byteSize sha256 } }
  verification { score verdict reasons createdAt }`;

const usd = (what: string) => z.string().describe(`${what}, in USD (USDC) as an exact decimal string, e.g. "15.00"`);
const status = z.enum(TaskStatus);
const at = (what: string) => z.string().describe(`${what} (ISO-8601)`);

/** "test" or "live", as the REST API writes a key's mode. */
export const ModeSchema = z.enum(["test", "live"]).describe("test: test USDC and mock operators; live: real USDC and real people");
export const modeOf = (mode: Mode): z.infer<typeof ModeSchema> => (mode === "LIVE" ? "live" : "test");

export const TaskSummarySchema = z.object({
  task_id: z.string(),
  status,
  mode: ModeSchema,
  title: z.string(),
  description: z.string(),
  task_type: z.enum(TaskType),
  location: z.object({ lat: z.number(), lng: z.number(), address: z.string().nullable() }),
  reward_usd: usd("Paid to the operator"),
  fee_usd: usd("Platform fee, on top of the reward"),
  total_usd: usd("reward + fee, held in escrow"),
  currency: z.literal("USDC"),
  deadline: at("When the task expires"),
  proof_requirements: z.array(z.string()),
  attempts: z.number().int().describe("Proof submissions so far"),
  max_attempts: z.number().int(),
  test_scenario: z.enum(TestScenario).nullable(),
  created_at: at("When it was posted"),
  updated_at: at("When it last changed"),
});
export type TaskSummary = z.infer<typeof TaskSummarySchema>;

export const TaskSchema = TaskSummarySchema.extend({
  operator_id: z.string().nullable().describe("The operator holding the task, once accepted"),
  events: z
    .array(
      z.object({
        event_id: z.string(),
        kind: z.enum(TaskEventKind).describe("STATUS_CHANGED, or ESCROW_FUNDED: the reward is locked on chain and humans may accept (the status stays POSTED)"),
        from_status: status.nullable().describe("Null for the event that created the task"),
        to_status: status,
        actor_type: z.enum(ActorType),
        actor_id: z.string().nullable(),
        reason: z.string().nullable(),
        created_at: at("When it happened"),
      }),
    )
    .describe("Every status change, and the escrow being funded on chain, oldest first"),
  proof: z
    .object({
      attempt: z.number().int(),
      notes: z.string().nullable(),
      submitted_at: at("When it was submitted"),
      photos: z.array(z.object({ content_type: z.string(), byte_size: z.number().int(), sha256: z.string() })),
    })
    .nullable()
    .describe("The latest proof submission"),
  verification: z
    .object({ score: z.number().int().describe("0-100"), verdict: z.string(), reasons: z.array(z.string()), scored_at: at("When it was scored") })
    .nullable()
    .describe("The AI Guardian's latest score of the proof: 90+ verifies, below 50 rejects, in between waits for review_proof"),
  next_step: z.string().describe("What to do next"),
});
export type TaskView = z.infer<typeof TaskSchema>;

/** A task as TASK_SUMMARY_FIELDS selects it. */
export interface TaskSummaryData {
  id: string;
  status: TaskStatus;
  mode: Mode;
  title: string;
  description: string;
  taskType: TaskType;
  deadline: string;
  proofRequirements: string[];
  attempts: number;
  maxAttempts: number;
  testScenario: TestScenario | null;
  createdAt: string;
  updatedAt: string;
  location: { lat: number; lng: number; address: string | null };
  reward: { usd: string };
  fee: { usd: string };
  total: { usd: string };
}

/** A task as TASK_FIELDS selects it. */
export interface TaskData extends TaskSummaryData {
  operator: { id: string } | null;
  events: Array<{ id: string; kind: TaskEventKind; fromStatus: TaskStatus | null; toStatus: TaskStatus; actorType: ActorType; actorId: string | null; reason: string | null; createdAt: string }>;
  proofs: Array<{ attempt: number; notes: string | null; createdAt: string; photos: Array<{ contentType: string; byteSize: number; sha256: string }> }>;
  verification: { score: number; verdict: string; reasons: string[]; createdAt: string } | null;
}

export function toTaskSummary(task: TaskSummaryData): TaskSummary {
  return {
    task_id: task.id,
    status: task.status,
    mode: modeOf(task.mode),
    title: task.title,
    description: task.description,
    task_type: task.taskType,
    location: task.location,
    reward_usd: task.reward.usd,
    fee_usd: task.fee.usd,
    total_usd: task.total.usd,
    currency: "USDC",
    deadline: task.deadline,
    proof_requirements: task.proofRequirements,
    attempts: task.attempts,
    max_attempts: task.maxAttempts,
    test_scenario: task.testScenario,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}

export function toTaskView(task: TaskData): TaskView {
  const proof = task.proofs.at(-1);
  const { verification } = task;
  return {
    ...toTaskSummary(task),
    operator_id: task.operator?.id ?? null,
    events: task.events.map((event) => ({
      event_id: event.id,
      kind: event.kind,
      from_status: event.fromStatus,
      to_status: event.toStatus,
      actor_type: event.actorType,
      actor_id: event.actorId,
      reason: event.reason,
      created_at: event.createdAt,
    })),
    proof: proof
      ? {
          attempt: proof.attempt,
          notes: proof.notes,
          submitted_at: proof.createdAt,
          photos: proof.photos.map((photo) => ({ content_type: photo.contentType, byte_size: photo.byteSize, sha256: photo.sha256 })),
        }
      : null,
    verification: verification ? { score: verification.score, verdict: verification.verdict, reasons: verification.reasons, scored_at: verification.createdAt } : null,
    next_step: NEXT_STEP[task.status],
  };
}
