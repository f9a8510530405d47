import { z } from "zod";
import { DisputeDecision, DisputeStatus } from "./enums";
import { component, dateTime, uuid } from "./json-schema";
import { presentTask, TaskSchema } from "./task";
import type { AdminAuditLogResult, AdminDisputeFieldsFragment } from "./operations.generated";

/** A dispute as the platform's admins see it (REST, snake_case): with the disputed task, its proof and verification. */
export const AdminDisputeSchema = component(
  "AdminDispute",
  z
    .strictObject({
      task_id: uuid(),
      reason: z.string().describe("Why the agent disputes the proof"),
      status: z.enum(DisputeStatus),
      decision: z.enum(DisputeDecision).nullable(),
      decision_note: z.string().nullable(),
      decided_by: z.string().nullable().describe("The admin who decided; null while open, or when the chain ended it (escrow reclaimed after its grace period)"),
      opened_at: dateTime(),
      decided_at: dateTime().nullable(),
      task: TaskSchema,
    })
    .describe("A dispute of verified proof, with the task as its agent sees it"),
);

export const AdminDisputeListSchema = component(
  "AdminDisputeList",
  z.strictObject({
    disputes: z.array(AdminDisputeSchema).describe("Oldest first"),
    pagination: z.strictObject({ has_more: z.boolean(), next_cursor: z.string().nullable().describe("Pass as `after` for the next page") }),
  }),
);

export const AdminAuditEntrySchema = component(
  "AdminAuditEntry",
  z.strictObject({
    entry_id: z.string().describe("Increasing with time"),
    action: z.string().describe("DISPUTE_DECIDED, ADMIN_CREATED or ADMIN_REVOKED"),
    admin: z.string().nullable().describe("The admin who acted; null for the command line"),
    task_id: uuid().nullable(),
    detail: z.string(),
    created_at: dateTime(),
  }),
);

export const AdminAuditLogSchema = component(
  "AdminAuditLog",
  z.strictObject({
    entries: z.array(AdminAuditEntrySchema).describe("Newest first"),
    pagination: z.strictObject({ has_more: z.boolean(), next_cursor: z.string().nullable().describe("Pass as `before` for older entries") }),
  }),
);

export function presentAdminDispute(dispute: AdminDisputeFieldsFragment): z.output<typeof AdminDisputeSchema> {
  return {
    task_id: dispute.task.id,
    reason: dispute.reason,
    status: dispute.status,
    decision: dispute.decision,
    decision_note: dispute.decisionNote,
    decided_by: dispute.decidedBy,
    opened_at: dispute.openedAt,
    decided_at: dispute.decidedAt,
    task: presentTask(dispute.task),
  };
}

export function presentAuditEntry(entry: AdminAuditLogResult["adminAuditLog"]["nodes"][number]): z.output<typeof AdminAuditEntrySchema> {
  return { entry_id: entry.id, action: entry.action, admin: entry.adminName, task_id: entry.taskId, detail: entry.detail, created_at: entry.createdAt };
}
