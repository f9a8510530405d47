import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { mutateTask } from "../task.operations";
import { TASK_SELECTION, TaskSchema } from "../task.view";
import { success } from "../tool-result";

const CANCEL_TASK = `mutation McpCancelTask($id: ID!, $reason: String) { cancelTask(id: $id, reason: $reason) { ${TASK_SELECTION} } }`;

export function registerCancelTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "cancel_task",
    {
      title: "Cancel a task",
      description:
        "Cancel a task nobody has submitted proof for yet (status POSTED or ACCEPTED): the reward and fee go back to your balance in full. Cannot be undone.",
      inputSchema: { task_id: TaskId, reason: z.string().optional().describe("Why, recorded in the task's event log") },
      outputSchema: TaskSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ task_id, reason }, { signal }) => success(await mutateTask(backend, CANCEL_TASK, { id: task_id, reason }, signal)),
  );
}
