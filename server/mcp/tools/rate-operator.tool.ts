import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { RATING } from "../../api/limits";
import { McpRateOperator } from "../../api/documents";
import { RatingView, presentRating } from "../../api/reputation";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerRateOperatorTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "rate_operator",
    {
      title: "Rate the human who did a task",
      description: "Once a task is PAID, CANCELLED or EXPIRED with an operator: rate them 1-5. Once per task; calling again within 24 h changes it. It feeds their record.",
      inputSchema: {
        task_id: TaskId,
        score: z.int().min(RATING.minScore).max(RATING.maxScore).describe("5 best"),
        comment: z.string().max(RATING.commentChars).optional().describe("Shown to the operator"),
      },
      outputSchema: RatingView,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ task_id, score, comment }, { signal }) => {
      const { rateTask } = await run(backend, McpRateOperator, { taskId: task_id, score, comment }, signal);
      return success(RatingView.parse(presentRating(rateTask)));
    },
  );
}
