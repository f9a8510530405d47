import { DisputeDecision, DisputeStatus } from "../api/enums";
import { AdminAuditLog, AdminDisputes, DecideDispute } from "../api/documents";
import { presentAdminDispute, presentAuditEntry } from "../api/dispute";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { errors, jsonResponse, ref } from "./rest.route";

const MAX_PAGE = 100;
const limit = { name: "limit", in: "query", description: `Page size, 1 to ${MAX_PAGE}`, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE, default: 20 } } as const;

/**
 * The platform's admin routes (an admin key, ho_admin_..., made with
 * `npm run admin -- create <name>`): the disputes waiting for a decision, the
 * decision (release or refund), and the audit log of every admin act.
 */
export function adminResource(graphql: OperationRunner): RestResource {
  return {
    schemas: {
      DecideDisputeRequest: {
        type: "object",
        additionalProperties: false,
        required: ["decision", "note"],
        properties: {
          decision: { type: "string", enum: Object.values(DisputeDecision), description: "RELEASE pays the operator (VERIFIED, then PAID); REFUND returns reward and fee to the agent (CANCELLED)" },
          note: { type: "string", minLength: 1, maxLength: 960, description: "Why; shown to the agent and the operator, and kept in the audit log" },
        },
      },
    },
    routes: [
      {
        method: "get",
        path: "/admin/disputes",
        fieldAliases: { first: "limit" },
        operation: {
          operationId: "listDisputes",
          summary: "Disputes, oldest first (admin key)",
          description: "By default the OPEN ones, waiting for a decision, each with the disputed task: its proof (signed photo URLs), the Guardian's verification and its events.",
          tags: ["Admin"],
          parameters: [
            { name: "status", in: "query", description: "OPEN (default) or DECIDED", schema: { type: "string", enum: Object.values(DisputeStatus), default: DisputeStatus.OPEN } },
            limit,
            { name: "after", in: "query", description: "next_cursor of the previous page", schema: { type: "string", maxLength: 200 } },
          ],
          responses: { "200": jsonResponse("A page of disputes", ref("AdminDisputeList")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const { disputes } = await graphql.run(AdminDisputes, ctx, { status: query.status, first: query.limit, after: query.after });
          return { status: 200, body: { disputes: disputes.nodes.map(presentAdminDispute), pagination: { has_more: disputes.pageInfo.hasNextPage, next_cursor: disputes.pageInfo.endCursor } } };
        },
      },
      {
        method: "post",
        path: "/admin/disputes/{task_id}/decision",
        operation: {
          operationId: "decideDispute",
          summary: "Decide a DISPUTED task: release to the operator or refund the agent (admin key)",
          description: "Only the platform decides, never the disputing agent. RELEASE is refused (409) once the escrow's release window has closed (deadline + grace period, less an hour); REFUND is always possible.",
          tags: ["Admin"],
          requestBody: { required: true, content: { "application/json": { schema: ref("DecideDisputeRequest") } } },
          responses: { "200": jsonResponse("The dispute, DECIDED, with its task", ref("AdminDispute")), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { decideDispute } = await graphql.run(DecideDispute, ctx, { taskId: params.task_id, decision: body.decision, note: body.note });
          return { status: 200, body: presentAdminDispute(decideDispute) };
        },
      },
      {
        method: "get",
        path: "/admin/audit-log",
        fieldAliases: { first: "limit" },
        operation: {
          operationId: "adminAuditLog",
          summary: "Every admin act, newest first (admin key)",
          tags: ["Admin"],
          parameters: [limit, { name: "before", in: "query", description: "next_cursor of the previous page", schema: { type: "string", maxLength: 20 } }],
          responses: { "200": jsonResponse("A page of the audit log", ref("AdminAuditLog")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const { adminAuditLog } = await graphql.run(AdminAuditLog, ctx, { first: query.limit, before: query.before });
          return { status: 200, body: { entries: adminAuditLog.nodes.map(presentAuditEntry), pagination: { has_more: adminAuditLog.pageInfo.hasNextPage, next_cursor: adminAuditLog.pageInfo.endCursor } } };
        },
      },
    ],
  };
}
