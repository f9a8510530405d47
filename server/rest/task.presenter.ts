import { TaskEventKind, TaskStatus, TaskType, TestScenario, ActorType } from "../tasks/task.enums";
import { Verdict } from "../guardian/verification.entity";
import { dateTime, nullable, object, ref, type JsonSchema } from "./rest.route";

/**
 * How a task looks over REST: snake_case, money as exact decimal strings,
 * the latest proof and Guardian verification as summaries. The GraphQL
 * selections, the mapping and the JSON Schemas sit together so they change
 * together; the REST suites check every response against the schemas.
 */
export const TASK_SUMMARY_SELECTION = `
  id status mode title description taskType deadline proofRequirements attempts maxAttempts testScenario createdAt updatedAt
  location { lat lng address }
  reward { usd } fee { usd } total { usd }`;

export const TASK_SELECTION = `${TASK_SUMMARY_SELECTION}
  operator { id }
  events { id kind fromStatus toStatus actorType actorId reason createdAt }
  proofs { attempt notes createdAt photos { contentType byteSize sha256 } }
  verification { score verdict reasons createdAt }`;

export interface GqlTaskSummary {
  id: string;
  status: TaskStatus;
  mode: "TEST" | "LIVE";
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

export interface GqlTask extends GqlTaskSummary {
  operator: { id: string } | null;
  events: Array<{ id: string; kind: TaskEventKind; fromStatus: TaskStatus | null; toStatus: TaskStatus; actorType: ActorType; actorId: string | null; reason: string | null; createdAt: string }>;
  proofs: Array<{ attempt: number; notes: string | null; createdAt: string; photos: Array<{ contentType: string; byteSize: number; sha256: string }> }>;
  verification: { score: number; verdict: Verdict; reasons: string[]; createdAt: string } | null;
}

export function restMode(mode: "TEST" | "LIVE"): "test" | "live" {
  return mode === "LIVE" ? "live" : "test";
}

export function presentTaskSummary(task: GqlTaskSummary) {
  return {
    task_id: task.id,
    status: task.status,
    mode: restMode(task.mode),
    title: task.title,
    description: task.description,
    task_type: task.taskType,
    location: { lat: task.location.lat, lng: task.location.lng, address: task.location.address },
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

export function presentAvailableTask(available: { task: GqlTaskSummary; distanceKm: number }) {
  return { ...presentTaskSummary(available.task), distance_km: available.distanceKm };
}

export function presentTask(task: GqlTask) {
  const proof = task.proofs.at(-1);
  return {
    ...presentTaskSummary(task),
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
    verification: task.verification
      ? { score: task.verification.score, verdict: task.verification.verdict, reasons: task.verification.reasons, scored_at: task.verification.createdAt }
      : null,
    // The GraphQL API exposes no on-chain escrow yet; until it does, no task has one to report.
    escrow: null,
  };
}

// ── JSON Schemas ──────────────────────────────────────────────────────────────

const usd = (description: string): JsonSchema => ({ type: "string", pattern: "^\\d+\\.\\d{2,6}$", description, examples: ["15.00"] });

const TASK_SUMMARY_PROPERTIES: Record<string, JsonSchema> = {
  task_id: { type: "string", format: "uuid" },
  status: ref("TaskStatus"),
  mode: ref("Mode"),
  title: { type: "string" },
  description: { type: "string" },
  task_type: ref("TaskType"),
  location: ref("Location"),
  reward_usd: usd("Paid to the operator, in USD (USDC), as an exact decimal string"),
  fee_usd: usd("Platform fee, charged to the agent on top of the reward"),
  total_usd: usd("reward_usd + fee_usd: what the agent paid into escrow"),
  currency: { const: "USDC" },
  deadline: dateTime,
  proof_requirements: { type: "array", items: { type: "string" } },
  attempts: { type: "integer", minimum: 0, description: "Proof submissions so far" },
  max_attempts: { type: "integer", minimum: 1 },
  test_scenario: nullable(ref("TestScenario")),
  created_at: dateTime,
  updated_at: dateTime,
};

export const TASK_SCHEMAS: Record<string, JsonSchema> = {
  TaskStatus: { type: "string", enum: Object.values(TaskStatus), description: "POSTED → ACCEPTED → SUBMITTED → VERIFIED → PAID, with MANUAL_REVIEW, REJECTED, CANCELLED and EXPIRED" },
  TaskType: { type: "string", enum: Object.values(TaskType) },
  TestScenario: { type: "string", enum: Object.values(TestScenario), description: "Test keys only: the branch of the lifecycle the mock operator walks" },
  Mode: { type: "string", enum: ["test", "live"], description: "test: no real money, mock operators; live: real USDC" },
  Location: object({ lat: { type: "number", minimum: -90, maximum: 90 }, lng: { type: "number", minimum: -180, maximum: 180 }, address: nullable({ type: "string" }) }),
  TaskSummary: object(TASK_SUMMARY_PROPERTIES, "A task without its history: what lists return"),
  AvailableTask: object(
    { ...TASK_SUMMARY_PROPERTIES, distance_km: { type: "number", minimum: 0, description: "Great-circle distance from the search point" } },
    "An open task near the operator",
  ),
  TaskEvent: object(
    {
      event_id: { type: "string", description: "Orders all events of all tasks" },
      kind: { type: "string", enum: Object.values(TaskEventKind), description: "STATUS_CHANGED, or ESCROW_FUNDED: the reward is locked on chain and operators may accept (the status stays POSTED)" },
      from_status: nullable(ref("TaskStatus")),
      to_status: ref("TaskStatus"),
      actor_type: { type: "string", enum: Object.values(ActorType) },
      actor_id: nullable({ type: "string" }),
      reason: nullable({ type: "string" }),
      created_at: dateTime,
    },
    "One entry of the task's audit log: a transition, or its escrow funded on chain",
  ),
  ProofSummary: object(
    {
      attempt: { type: "integer", minimum: 1 },
      notes: nullable({ type: "string" }),
      submitted_at: dateTime,
      photos: {
        type: "array",
        items: object({ content_type: { type: "string" }, byte_size: { type: "integer", minimum: 1 }, sha256: { type: "string", pattern: "^[0-9a-f]{64}$" } }),
      },
    },
    "The latest proof submission (visible to the task's agent and to the operator holding it)",
  ),
  VerificationSummary: object(
    {
      score: { type: "integer", minimum: 0, maximum: 100 },
      verdict: { type: "string", enum: Object.values(Verdict) },
      reasons: { type: "array", items: { type: "string" } },
      scored_at: dateTime,
    },
    "The AI Guardian's latest score of the proof: 90+ verifies, below 50 rejects, in between goes to manual review",
  ),
  Escrow: object(
    {
      fund_tx_hash: nullable({ type: "string" }),
      release_tx_hash: nullable({ type: "string" }),
      refund_tx_hash: nullable({ type: "string" }),
      basescan_url: nullable({ type: "string", format: "uri" }),
    },
    "The task's on-chain USDC escrow on Base",
  ),
  Task: object(
    {
      ...TASK_SUMMARY_PROPERTIES,
      operator_id: nullable({ type: "string", format: "uuid" }),
      events: { type: "array", items: ref("TaskEvent"), description: "Every transition, and the escrow being funded on chain, oldest first" },
      proof: nullable(ref("ProofSummary")),
      verification: nullable(ref("VerificationSummary")),
      escrow: { ...nullable(ref("Escrow")), description: "Null while the task has no on-chain escrow (test mode, or chain settlement not enabled)" },
    },
    "A task with its audit log, latest proof and verification",
  ),
};
