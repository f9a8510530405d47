import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { McpTaskResources } from "../api/documents";
import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { getTask } from "./task.operations";
import { ToolError } from "./tool-result";

export const TASK_URI_TEMPLATE = "humanops://tasks/{task_id}";
/** JSON-RPC error code MCP gives a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;
/** resources/list shows the newest tasks; older ones stay readable by URI. */
const LISTED_TASKS = 50;

function taskUri(taskId: string): string {
  return `humanops://tasks/${encodeURIComponent(taskId)}`;
}

/** A failed GraphQL call as the protocol error a resource request answers with. */
export function resourceError(err: unknown): McpError {
  if (err instanceof McpError) return err;
  if (err instanceof ToolError && err.code === "NOT_FOUND") return new McpError(RESOURCE_NOT_FOUND, err.message);
  return new McpError(err instanceof ToolError ? ErrorCode.InvalidRequest : ErrorCode.InternalError, err instanceof Error ? err.message : String(err));
}

async function readTask(backend: GraphQLBackend, uri: URL, taskId: string, signal: AbortSignal) {
  try {
    const task = await getTask(backend, taskId, signal);
    return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(task, null, 2) }] };
  } catch (err) {
    throw resourceError(err);
  }
}

/** Each of the caller's tasks as a resource: status, terms, verification and event log. */
export function registerTaskResource(server: McpServer, backend: GraphQLBackend): void {
  const template = new ResourceTemplate(TASK_URI_TEMPLATE, {
    list: async ({ signal }) => {
      const { tasks } = await run(backend, McpTaskResources, { first: LISTED_TASKS }, signal).catch((err: unknown) => {
        throw resourceError(err);
      });
      return {
        resources: tasks.nodes.map((task) => ({
          uri: taskUri(task.id),
          name: `${task.title} · task ${task.id.slice(0, 8)}`,
          title: `${task.title} (${task.status})`,
          mimeType: "application/json",
        })),
      };
    },
  });
  server.registerResource(
    "task",
    template,
    {
      title: "HumanOps task",
      description: "One of your tasks as JSON: status, terms, the AI Guardian's verification and the event log. Subscribe to be notified whenever it changes.",
      mimeType: "application/json",
    },
    (uri, variables, { signal }) => readTask(backend, uri, String(variables.task_id), signal),
  );
}
