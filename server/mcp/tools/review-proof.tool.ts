import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ReviewDecision } from "../../tasks/task.input";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { TASK_SELECTION, TaskSchema } from "../task.view";
import { success } from "../tool-result";

const REVIEW_TASK = `mutation McpReviewTask($id: ID!, $decision: ReviewDecision!, $reason: String) {
  reviewTask(id: $id, decision: $decision, reason: $reason) { ${TASK_SELECTION} } }`;

export function registerReviewProofTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "review_proof",
    {
      title: "Approve or reject proof in manual review",
      description:
        "Decide on proof the AI Guardian sent to MANUAL_REVIEW (read the task's verification with check_status first). " +
        "APPROVE verifies it and pays the operator; REJECT sends it back so the operator may resubmit while attempts and time remain, " +
        "and refunds you if none remain. Only for tasks in MANUAL_REVIEW.",
      inputSchema: {
        task_id: TaskId,
        decision: z.enum(ReviewDecision).describe("APPROVE pays the operator; REJECT refuses the proof"),
        reason: z.string().optional().describe("Why, recorded in the task's event log"),
      },
      outputSchema: TaskSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, decision, reason }, { signal }) => success(await mutateTask(backend, REVIEW_TASK, { id: task_id, decision, reason }, signal)),
  );
}
