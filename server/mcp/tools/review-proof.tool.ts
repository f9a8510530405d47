import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ReviewDecision } from "../../tasks/task.input";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { TASK_SUMMARY_SELECTION, TaskStepSchema } from "../task.view";
import { success } from "../tool-result";

const REVIEW_TASK = `mutation McpReviewTask($id: ID!, $decision: ReviewDecision!, $reason: String) {
  reviewTask(id: $id, decision: $decision, reason: $reason) { ${TASK_SUMMARY_SELECTION} } }`;

export function registerReviewProofTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "review_proof",
    {
      title: "Approve or reject proof in manual review",
      description:
        "Decide on proof in MANUAL_REVIEW (read it with check_status first). APPROVE pays the operator; REJECT lets them resubmit while attempts and time remain, else refunds you.",
      inputSchema: {
        task_id: TaskId,
        decision: z.enum(ReviewDecision),
        reason: z.string().optional().describe("Kept in the event log"),
      },
      outputSchema: TaskStepSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, decision, reason }, { signal }) => success(await mutateTask(backend, REVIEW_TASK, { id: task_id, decision, reason }, signal)),
  );
}
