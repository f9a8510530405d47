import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TaskStatus, TaskType } from "../../api/enums";
import { McpTasks } from "../../api/documents";
import { TaskBriefView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { toTaskBrief } from "../task.view";
import { success } from "../tool-result";

export function registerListTasksTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "list_tasks",
    {
      title: "List your tasks",
      description:
        "Your tasks in this key's mode, newest first, by status or type; pass next_cursor as cursor for more.",
      inputSchema: {
        status: z.enum(TaskStatus).optional(),
        task_type: z.enum(TaskType).optional(),
        limit: z.int().min(1).max(100).optional().describe("Tasks per page (default 20)"),
        cursor: z.string().optional().describe("next_cursor from the previous page"),
      },
      outputSchema: {
        tasks: z.array(TaskBriefView),
        total_count: z.number().describe("Over all pages"),
        next_cursor: z.string().nullable().describe("null on the last page"),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ status, task_type, limit, cursor }, { signal }) => {
      const variables = { filter: { status, taskType: task_type }, first: limit ?? 20, after: cursor };
      const { tasks } = await run(backend, McpTasks, variables, signal);
      return success({
        tasks: tasks.nodes.map(toTaskBrief),
        total_count: tasks.totalCount,
        next_cursor: tasks.pageInfo.hasNextPage ? tasks.pageInfo.endCursor : null,
      });
    },
  );
}
