import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { getTask } from "../task.operations";
import { TaskDetailView } from "../../api/task";
import { success } from "../tool-result";
import { proofImages } from "../proof-images";

export function registerCheckStatusTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "check_status",
    {
      title: "Check a task",
      description:
        "A task in full: terms, event log, latest proof with its photos as images, the AI Guardian's verification, escrow, next step. To wait for a change, use wait_for_task.",
      inputSchema: { task_id: TaskId },
      outputSchema: TaskDetailView,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ task_id }, { signal }) => {
      const task = await getTask(backend, task_id, signal);
      const result = success(task);
      return { ...result, content: [...result.content, ...(await proofImages(task, signal))] };
    },
  );
}
