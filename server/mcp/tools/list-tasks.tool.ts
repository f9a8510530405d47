import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TaskStatus, TaskType } from "../../tasks/task.enums";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { TASK_SUMMARY_SELECTION, TaskSummarySchema, presentTaskSummary, type GqlTaskSummary } from "../task.view";
import { success } from "../tool-result";

const LIST_TASKS = `query McpTasks($filter: TaskFilter, $first: Int!, $after: String) {
  tasks(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${TASK_SUMMARY_SELECTION} } } }`;

interface TaskPage {
  tasks: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: GqlTaskSummary[] };
}

export function registerListTasksTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "list_tasks",
    {
      title: "List your tasks",
      description: "Your tasks in this key's mode (test or live), newest first, optionally filtered by status or type. Pass next_cursor as cursor for the next page.",
      inputSchema: {
        status: z.enum(TaskStatus).optional().describe("Only tasks in this status"),
        task_type: z.enum(TaskType).optional().describe("Only tasks of this type"),
        limit: z.number().int().optional().describe("Tasks per page, 1-100 (default 20)"),
        cursor: z.string().optional().describe("next_cursor from the previous page"),
      },
      outputSchema: {
        tasks: z.array(TaskSummarySchema),
        total_count: z.number().int().describe("Tasks matching the filter, over all pages"),
        next_cursor: z.string().nullable().describe("Pass as cursor for the next page; null on the last page"),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ status, task_type, limit, cursor }, { signal }) => {
      const variables = { filter: { status, taskType: task_type }, first: limit ?? 20, after: cursor };
      const { tasks } = await run<TaskPage>(backend, LIST_TASKS, variables, signal);
      return success({
        tasks: tasks.nodes.map(presentTaskSummary),
        total_count: tasks.totalCount,
        next_cursor: tasks.pageInfo.hasNextPage ? tasks.pageInfo.endCursor : null,
      });
    },
  );
}
