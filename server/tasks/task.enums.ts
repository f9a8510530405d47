import { registerEnumType } from "type-graphql";

export enum TaskStatus {
  POSTED = "POSTED",
  ACCEPTED = "ACCEPTED",
  SUBMITTED = "SUBMITTED",
  MANUAL_REVIEW = "MANUAL_REVIEW",
  REJECTED = "REJECTED",
  VERIFIED = "VERIFIED",
  PAID = "PAID",
  CANCELLED = "CANCELLED",
  EXPIRED = "EXPIRED",
}

export enum TaskType {
  PHOTO = "PHOTO",
  DELIVERY = "DELIVERY",
  INSPECTION = "INSPECTION",
  VERIFICATION = "VERIFICATION",
  CUSTOM = "CUSTOM",
}

/** What the built-in mock operator does with a test-mode task. */
export enum TestScenario {
  /** Good proof: VERIFIED, then PAID. */
  APPROVE = "APPROVE",
  /** Proof with too few photos: MANUAL_REVIEW, waiting for the agent's decision. */
  REVIEW = "REVIEW",
  /** Undecodable proof on every attempt: REJECTED until attempts run out, then EXPIRED and refunded. */
  REJECT = "REJECT",
  /** A recompressed copy of a photo of the agent's earlier test task: the Guardian's reuse check REJECTs it on every attempt. */
  FRAUD = "FRAUD",
  /** Nobody accepts; the task expires at once and is refunded. */
  EXPIRE = "EXPIRE",
  /** No mock operator: test-mode operators accept and submit by hand. */
  MANUAL = "MANUAL",
}

/** Who caused a transition. */
export enum ActorType {
  AGENT = "AGENT",
  OPERATOR = "OPERATOR",
  GUARDIAN = "GUARDIAN",
  SYSTEM = "SYSTEM",
}

/** What a task event records: a status transition, or the task's money being locked on chain (its status stays POSTED). */
export enum TaskEventKind {
  STATUS_CHANGED = "STATUS_CHANGED",
  ESCROW_FUNDED = "ESCROW_FUNDED",
}

registerEnumType(TaskStatus, {
  name: "TaskStatus",
  description: "POSTED → ACCEPTED → SUBMITTED → VERIFIED → PAID, with MANUAL_REVIEW, REJECTED, CANCELLED and EXPIRED",
});
registerEnumType(TaskType, { name: "TaskType" });
registerEnumType(TestScenario, { name: "TestScenario", description: "Test mode only: which branch of the lifecycle to walk" });
registerEnumType(ActorType, { name: "ActorType" });
registerEnumType(TaskEventKind, {
  name: "TaskEventKind",
  description: "STATUS_CHANGED: the task moved from previousStatus to status. ESCROW_FUNDED: the reward and fee are locked on chain, so operators may now accept the task (it stays POSTED)",
});
