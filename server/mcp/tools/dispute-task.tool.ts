import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpDisputeTask } from "../../api/documents";
import { TaskStepView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { success } from "../tool-result";

export function registerDisputeTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "dispute_task",
    {
      title: "Dispute verified proof",
      description:
        "While a VERIFIED task's release is held (posted with review_window_minutes; until release_held_until), dispute proof that is wrong. The task becomes DISPUTED and HumanOps staff decide: pay the operator or refund you.",
      inputSchema: {
        task_id: TaskId,
        reason: z.string().min(1).max(1000).describe("What is wrong with the proof"),
      },
      outputSchema: TaskStepView,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, reason }, { signal }) => success(await mutateTask(backend, McpDisputeTask, { id: task_id, reason }, signal)),
  );
}
