import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ReviewDecision } from "../../api/enums";
import { McpReviewTask } from "../../api/documents";
import { TaskStepView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { success } from "../tool-result";

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
      outputSchema: TaskStepView,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, decision, reason }, { signal }) => success(await mutateTask(backend, McpReviewTask, { id: task_id, decision, reason }, signal)),
  );
}
