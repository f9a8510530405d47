import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { McpCancelTask } from "../../api/documents";
import { TaskStepView } from "../../api/task";
import { success } from "../tool-result";

export function registerCancelTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "cancel_task",
    {
      title: "Cancel a task",
      description:
        "Cancel a POSTED, ACCEPTED or REJECTED task: the reward and fee go back to your balance in full. Cannot be undone.",
      inputSchema: { task_id: TaskId, reason: z.string().optional().describe("Kept in the event log") },
      outputSchema: TaskStepView,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ task_id, reason }, { signal }) => success(await mutateTask(backend, McpCancelTask, { id: task_id, reason }, signal)),
  );
}
