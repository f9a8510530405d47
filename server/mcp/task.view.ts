import { z } from "zod";
import type { Mode } from "../common/mode";
import { ActorType, TaskEventKind, TaskStatus, TaskType, TestScenario } from "../tasks/task.enums";
import { EscrowViewStatus } from "../escrow/escrow.service";
import { presentTask, restMode, type GqlTask } from "../rest/task.presenter";

/**
 * The task as the MCP tools show it: the REST API's own presentation
 * (server/rest/task.presenter.ts), so an agent sees one shape whichever way
 * it connects, described here for MCP hosts, plus a `next_step` that names
 * the tool that moves the task on.
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

export { TASK_SELECTION, TASK_SUMMARY_SELECTION, presentTaskSummary, type GqlTask, type GqlTaskSummary } from "../rest/task.presenter";

const usd = (what: string) => z.string().describe(`${what}, in USD (USDC) as an exact decimal string, e.g. "15.00"`);
const status = z.enum(TaskStatus);
const at = (what: string) => z.string().describe(`${what} (ISO-8601)`);

/** "test" or "live", as the REST API writes a key's mode. */
export const ModeSchema = z.enum(["test", "live"]).describe("test: test USDC and mock operators; live: real USDC and real people");
export const modeOf: (mode: Mode) => z.infer<typeof ModeSchema> = restMode;

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
      photos: z
        .array(
          z.object({
            position: z.number().int(),
            content_type: z.string(),
            byte_size: z.number().int(),
            sha256: z.string(),
            width: z.number().int().nullable(),
            height: z.number().int().nullable(),
            taken_at: z.string().nullable(),
            distance_from_task_m: z.number().nullable(),
            url: z.string().nullable(),
            display_url: z.string().nullable(),
            thumbnail_url: z.string().nullable(),
          }),
        )
        .describe("Also in this result as images; taken_at and distance_from_task_m come from EXIF; the URLs are signed and expire within minutes"),
    })
    .nullable()
    .describe("The latest proof submission"),
  verification: z
    .object({ score: z.number().int().describe("0-100"), verdict: z.string(), reasons: z.array(z.string()), scored_at: at("When it was scored") })
    .nullable()
    .describe("The AI Guardian's latest score of the proof: 90+ verifies, below 50 rejects, in between waits for review_proof"),
  escrow: z
    .object({
      status: z.enum(EscrowViewStatus).describe("FUNDING → FUNDED → RELEASING → RELEASED, or → REFUNDING → REFUNDED; UNFUNDED: ended before its funding"),
      chain_id: z.number().int().describe("8453 Base, 84532 Base Sepolia, 31337 a local development chain"),
      network: z.string(),
      contract: z.string().describe("The TaskEscrow contract"),
      chain_task_id: z.string().describe("The task's bytes32 id in TaskEscrow"),
      amount_usd: usd("reward + fee, held by the contract"),
      funder: z.string(),
      payee: z.string().nullable().describe("Who the release paid: the operator's payout address"),
      fund_tx_hash: z.string().nullable(),
      release_tx_hash: z.string().nullable(),
      refund_tx_hash: z.string().nullable(),
      basescan_url: z.string().nullable().describe("The latest transaction on basescan.org; null on a local chain"),
      reclaimable_at: at("From then on anyone can return the money to the funder"),
    })
    .nullable()
    .describe("The task's USDC escrow on chain: where the money is, with transaction hashes"),
  next_step: z.string().describe("What to do next"),
});
export type TaskView = z.infer<typeof TaskSchema>;

/** A task as TASK_SELECTION selects it, with the tool's next step. */
export function toTaskView(task: GqlTask): TaskView {
  return { ...presentTask(task), next_step: NEXT_STEP[task.status] };
}
