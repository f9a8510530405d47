/**
 * The enums of HumanOps's public API, as plain constants: what GraphQL, REST
 * and MCP show, what the entities store and what the features branch on.
 * GraphQL registers them (registerEnumType, next to the types that use
 * them); the OpenAPI document and the MCP tools list their values from here.
 * Nothing here loads anything: the stdio MCP server uses these as they are.
 */

/** The `values` of an enum-like constant as a type: `EnumOf<typeof TaskStatus>` is "POSTED" | "ACCEPTED" | .... */
type EnumOf<T> = T[keyof T];

export const TaskStatus = {
  POSTED: "POSTED",
  ACCEPTED: "ACCEPTED",
  SUBMITTED: "SUBMITTED",
  MANUAL_REVIEW: "MANUAL_REVIEW",
  REJECTED: "REJECTED",
  VERIFIED: "VERIFIED",
  PAID: "PAID",
  CANCELLED: "CANCELLED",
  EXPIRED: "EXPIRED",
  /** The agent disputed verified proof within the task's review window; the platform decides release or refund. */
  DISPUTED: "DISPUTED",
} as const;
export type TaskStatus = EnumOf<typeof TaskStatus>;

/** Statuses a task never leaves. */
export const TERMINAL_STATUSES: readonly TaskStatus[] = [TaskStatus.PAID, TaskStatus.CANCELLED, TaskStatus.EXPIRED];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const TaskType = {
  PHOTO: "PHOTO",
  DELIVERY: "DELIVERY",
  INSPECTION: "INSPECTION",
  VERIFICATION: "VERIFICATION",
  CUSTOM: "CUSTOM",
} as const;
export type TaskType = EnumOf<typeof TaskType>;

/** What the built-in mock operator does with a test-mode task. */
export const TestScenario = {
  /** Good proof: VERIFIED, then PAID. */
  APPROVE: "APPROVE",
  /** Proof with too few photos: MANUAL_REVIEW, waiting for the agent's decision. */
  REVIEW: "REVIEW",
  /** Undecodable proof on every attempt: REJECTED until attempts run out, then EXPIRED and refunded. */
  REJECT: "REJECT",
  /** A recompressed copy of a photo of the agent's earlier test task: the Guardian's reuse check REJECTs it on every attempt. */
  FRAUD: "FRAUD",
  /** Nobody accepts; the task expires at once and is refunded. */
  EXPIRE: "EXPIRE",
  /** No mock operator: test-mode operators accept and submit by hand. */
  MANUAL: "MANUAL",
} as const;
export type TestScenario = EnumOf<typeof TestScenario>;

/** Who caused a transition. */
export const ActorType = {
  AGENT: "AGENT",
  OPERATOR: "OPERATOR",
  GUARDIAN: "GUARDIAN",
  SYSTEM: "SYSTEM",
  /** A platform administrator (deciding a dispute). */
  ADMIN: "ADMIN",
} as const;
export type ActorType = EnumOf<typeof ActorType>;

/** What a task event records: a status transition, or the task's money being locked on chain (its status stays POSTED). */
export const TaskEventKind = {
  STATUS_CHANGED: "STATUS_CHANGED",
  ESCROW_FUNDED: "ESCROW_FUNDED",
  /** A message in the task's thread (the agent ↔ the operator holding it); the status does not change. */
  MESSAGE_POSTED: "MESSAGE_POSTED",
  TASK_CHANGED: "TASK_CHANGED",
  TIPPED: "TIPPED",
  /** One side of an ended task rated the other, or changed its rating (status unchanged; the comment is on the rating, not the event). */
  RATED: "RATED",
  /** A tip booked by TIPPED reached the operator on chain (status unchanged; reason names the transaction). */
  TIP_PAID: "TIP_PAID",
} as const;
export type TaskEventKind = EnumOf<typeof TaskEventKind>;

/** The agent's decision on proof in MANUAL_REVIEW. */
export const ReviewDecision = {
  APPROVE: "APPROVE",
  REJECT: "REJECT",
} as const;
export type ReviewDecision = EnumOf<typeof ReviewDecision>;

/** Test keys act on test tasks and test money only; live keys on real ones. */
export const Mode = {
  TEST: "TEST",
  LIVE: "LIVE",
} as const;
export type Mode = EnumOf<typeof Mode>;

/** A key's mode as REST and MCP write it. */
export type RestMode = "test" | "live";

export function restMode(mode: Mode): RestMode {
  return mode === Mode.LIVE ? "live" : "test";
}

/** The Guardian's verdict on a proof. */
export const Verdict = {
  APPROVE: "APPROVE",
  REVIEW: "REVIEW",
  REJECT: "REJECT",
} as const;
export type Verdict = EnumOf<typeof Verdict>;

export const CheckOutcome = {
  PASS: "PASS",
  WARN: "WARN",
  FAIL: "FAIL",
  SKIPPED: "SKIPPED",
} as const;
export type CheckOutcome = EnumOf<typeof CheckOutcome>;

/** The checks the Guardian runs; `photo` names the photo for the per-photo ones. */
export const CheckName = {
  PHOTOS: "photos",
  NOTES: "notes",
  LOCATION: "location",
  TIME: "time",
  REUSE: "reuse",
  RECAPTURE: "recapture",
  VISION: "vision",
  CAPTURE_CODE: "capture_code",
} as const;
export type CheckName = EnumOf<typeof CheckName>;

/** How a task's escrow looks to API clients: the mined facts, plus the settlement on its way. */
export const EscrowViewStatus = {
  FUNDING: "FUNDING",
  FUNDED: "FUNDED",
  RELEASING: "RELEASING",
  RELEASED: "RELEASED",
  REFUNDING: "REFUNDING",
  REFUNDED: "REFUNDED",
  UNFUNDED: "UNFUNDED",
} as const;
export type EscrowViewStatus = EnumOf<typeof EscrowViewStatus>;

/** The sizes a proof photo is served in. */
export const PhotoSize = {
  ORIGINAL: "ORIGINAL",
  DISPLAY: "DISPLAY",
  THUMBNAIL: "THUMBNAIL",
} as const;
export type PhotoSize = EnumOf<typeof PhotoSize>;

/** The photo types a proof may hold. */
export const ACCEPTED_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;

/** An operator's identity verification (KYC), as stored: what accepting live tasks needs. */
export const KycStatus = {
  PENDING: "PENDING",
  APPROVED: "APPROVED",
  REJECTED: "REJECTED",
} as const;
export type KycStatus = EnumOf<typeof KycStatus>;

/** KYC as it applies to the key asking: a test key needs none, whatever the operator's verification is. */
export const KycView = { ...KycStatus, NOT_REQUIRED: "NOT_REQUIRED" } as const;
export type KycView = EnumOf<typeof KycView>;

export const WebhookEndpointStatus = {
  ACTIVE: "ACTIVE",
  /** Deliveries stopped after persistent failure (or by the agent); re-enable to resume. */
  DISABLED: "DISABLED",
} as const;
export type WebhookEndpointStatus = EnumOf<typeof WebhookEndpointStatus>;

export const WebhookDeliveryStatus = {
  /** Waiting for its next attempt (or in flight). */
  PENDING: "PENDING",
  DELIVERED: "DELIVERED",
  /** Retried for the whole retry window without success, or its endpoint was disabled. */
  FAILED: "FAILED",
} as const;
export type WebhookDeliveryStatus = EnumOf<typeof WebhookDeliveryStatus>;

/**
 * How an endpoint's deliveries are signed. STANDARD follows the Standard
 * Webhooks specification (https://www.standardwebhooks.com), so receivers
 * verify with the spec's own libraries in any language; LEGACY is the
 * HumanOps-Signature scheme of the first release, kept for endpoints created
 * before STANDARD existed until their owners rotate the secret.
 */
export const WebhookSignatureScheme = {
  STANDARD: "STANDARD",
  /** Deprecated: HumanOps-Signature `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the secret's text. */
  LEGACY: "LEGACY",
} as const;
export type WebhookSignatureScheme = EnumOf<typeof WebhookSignatureScheme>;

/** Subscribing to this type means every task transition (status change), whatever its specific type. */
export const TASK_STATUS_CHANGED = "task.status_changed";
export const ENDPOINT_DISABLED = "webhook_endpoint.disabled";
/** The task's reward and fee are locked in escrow on chain; it stays POSTED and operators may now accept it. Not a status change. */
export const TASK_FUNDED = "task.funded";
/** The operator wrote in the task's message thread (the agent's own messages are not delivered back to it). Not a status change. */
export const TASK_MESSAGE = "task.message";

/** The specific event each transition is delivered as. */
export const EVENT_TYPE_BY_STATUS: Readonly<Record<TaskStatus, string>> = {
  [TaskStatus.POSTED]: "task.posted",
  [TaskStatus.ACCEPTED]: "task.accepted",
  [TaskStatus.SUBMITTED]: "task.proof_submitted",
  [TaskStatus.MANUAL_REVIEW]: "task.manual_review",
  [TaskStatus.REJECTED]: "task.rejected",
  [TaskStatus.VERIFIED]: "task.verified",
  [TaskStatus.PAID]: "task.paid",
  [TaskStatus.CANCELLED]: "task.cancelled",
  [TaskStatus.EXPIRED]: "task.expired",
  [TaskStatus.DISPUTED]: "task.disputed",
};

/** The agent changed the task (its text, reward or deadline); it keeps its status. Not a status change. */
export const TASK_CHANGED = "task.changed";
/** The agent tipped the operator of a PAID task; the tip is paid on chain. Not a status change. */
export const TASK_TIPPED = "task.tipped";
/** A tip reached the operator's payout address on chain (the reason names the transaction). Not a status change. */
export const TASK_TIP_PAID = "task.tip_paid";
/** The operator rated the agent on an ended task, or changed that rating (the agent's own ratings are not delivered back to it). Not a status change. */
export const TASK_RATED = "task.rated";

/** Every event type an endpoint may subscribe to. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [TASK_STATUS_CHANGED, ...Object.values(EVENT_TYPE_BY_STATUS), TASK_FUNDED, ENDPOINT_DISABLED, TASK_MESSAGE, TASK_CHANGED, TASK_TIPPED, TASK_TIP_PAID, TASK_RATED];

/**
 * A value GraphQL gives in a wider type than the REST schema names (a
 * String for a photo's type or a check's name, KycStatus where a REST body
 * allows fewer): one of `values`, or the server broke its own contract.
 */
export function oneOf<T extends string>(values: readonly T[], value: string, field: string): T {
  if ((values as readonly string[]).includes(value)) return value as T;
  throw new Error(`GraphQL answered ${field} ${JSON.stringify(value)}, not one of ${values.join(", ")}`);
}

/** Who wrote a message in a task's thread. */
export const MessageAuthor = {
  AGENT: "AGENT",
  OPERATOR: "OPERATOR",
} as const;
export type MessageAuthor = EnumOf<typeof MessageAuthor>;
/** Who gave a rating: the task's agent (rating its operator) or its operator (rating the agent). */
export const RatingBy = {
  AGENT: "AGENT",
  OPERATOR: "OPERATOR",
} as const;
export type RatingBy = EnumOf<typeof RatingBy>;
/** What the platform decides on a disputed task: pay the operator, or return the money to the agent. */
export const DisputeDecision = {
  RELEASE: "RELEASE",
  REFUND: "REFUND",
} as const;
export type DisputeDecision = EnumOf<typeof DisputeDecision>;

export const DisputeStatus = {
  /** Waiting for the platform's decision; the task is DISPUTED and its escrow holds the money. */
  OPEN: "OPEN",
  DECIDED: "DECIDED",
} as const;
export type DisputeStatus = EnumOf<typeof DisputeStatus>;
