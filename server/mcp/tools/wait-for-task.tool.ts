import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CreateTaskRequestHandlerExtra } from "@modelcontextprotocol/sdk/experimental/tasks/interfaces.js";
import { isTerminal as isFinishedMcpTask } from "@modelcontextprotocol/sdk/experimental/tasks/interfaces.js";
import type { CallToolResult, ProgressNotification } from "@modelcontextprotocol/sdk/types.js";
import { TaskStatus } from "../../api/enums";
import { TaskStepView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { TaskId } from "../inputs";
import { waitForTask, type WaitRequest } from "../task.watch";
import { failure, success, ToolError } from "../tool-result";
import { proofImages } from "../proof-images";

const WAIT_LIMITS = { defaultSeconds: 50, maxSeconds: 3_600 } as const;
/** How long a finished wait's result stays readable through tasks/result. */
const RESULT_KEPT_MS = 10 * 60_000;
/** What hosts polling tasks/get are asked to pace themselves to. */
const MCP_TASK_POLL_MS = 500;
/** Progress is reported on every status change, and otherwise at most this often. */
const PROGRESS_EVERY_MS = 1_000;

const inputSchema = {
  task_id: TaskId,
  until_status: z
    .array(z.enum(TaskStatus))
    .min(1)
    .optional()
    .describe('e.g. ["PAID"]; by default any change'),
  known_status: z
    .enum(TaskStatus)
    .optional()
    .describe("The status you last saw; returns at once if the task left it"),
  timeout_seconds: z
    .number()
    .int()
    .min(1)
    .max(WAIT_LIMITS.maxSeconds)
    .default(WAIT_LIMITS.defaultSeconds)
    .describe("Keep the default where the host cuts calls at 60 s"),
};

type WaitArgs = z.infer<z.ZodObject<typeof inputSchema>>;

const outputSchema = {
  task: TaskStepView,
  reached: z.boolean(),
  timed_out: z.boolean(),
  waited_seconds: z.number(),
  new_message: z.boolean().describe("The operator wrote: read it with get_messages"),
};

function toRequest(args: WaitArgs): WaitRequest {
  return { taskId: args.task_id, until: args.until_status, knownStatus: args.known_status, timeoutMs: args.timeout_seconds * 1000 };
}

/**
 * Sends notifications/progress while the task is watched: on the request's
 * own stream while it is open (a plain call), otherwise on the session's
 * (a task-augmented call returns at once and the wait outlives it).
 */
function progressReporter(server: McpServer, extra: CreateTaskRequestHandlerExtra, timeoutMs: number) {
  const progressToken = extra._meta?.progressToken;
  let last = { status: undefined as TaskStatus | undefined, atMs: -Infinity, progress: -1 };
  return async (status: TaskStatus, elapsedMs: number): Promise<void> => {
    if (progressToken === undefined || (status === last.status && elapsedMs - last.atMs < PROGRESS_EVERY_MS)) return;
    const progress = Math.max(elapsedMs / 1000, last.progress + 0.001);
    last = { status, atMs: elapsedMs, progress };
    const notification: ProgressNotification = {
      method: "notifications/progress",
      params: { progressToken, progress, total: timeoutMs / 1000, message: `The task is ${status} (waited ${Math.floor(elapsedMs / 1000)} s)` },
    };
    await extra.sendNotification(notification).catch(() => server.server.notification(notification).catch(() => undefined));
  };
}

/** Runs the wait behind an MCP task and stores its result; the task's status message follows the HumanOps status. */
async function runWait(server: McpServer, backend: GraphQLBackend, args: WaitArgs, extra: CreateTaskRequestHandlerExtra, mcpTaskId: string): Promise<void> {
  const request = toRequest(args);
  const reportProgress = progressReporter(server, extra, request.timeoutMs);
  let lastStatus: TaskStatus | undefined;
  let result: CallToolResult;
  try {
    const outcome = await waitForTask(backend, request, {
      signal: extra.signal,
      async onPoll(status, elapsedMs) {
        const mcpTask = await extra.taskStore.getTask(mcpTaskId);
        if (isFinishedMcpTask(mcpTask.status)) throw new ToolError("CANCELLED", "the wait was cancelled");
        if (status !== lastStatus) await extra.taskStore.updateTaskStatus(mcpTaskId, "working", `The HumanOps task is ${status}`);
        lastStatus = status;
        await reportProgress(status, elapsedMs);
      },
    });
    const done = success({ task: TaskStepView.parse(outcome.task), reached: outcome.reached, timed_out: outcome.timedOut, waited_seconds: Math.round(outcome.waitedMs / 100) / 10, new_message: outcome.newMessage });
    result = { ...done, content: [...done.content, ...(await proofImages(outcome.task, extra.signal))] };
  } catch (err) {
    result = failure(err);
  }
  // A cancelled or expired MCP task takes no result; there is nobody left to tell.
  await extra.taskStore.storeTaskResult(mcpTaskId, result.isError ? "failed" : "completed", result).catch(() => undefined);
}

export function registerWaitForTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.experimental.tasks.registerToolTask(
    "wait_for_task",
    {
      title: "Wait for a task to move on",
      description:
        "Block until a task's status changes (or reaches until_status) instead of polling check_status. " +
        "Returns early when the task is final, waits for your review_proof (MANUAL_REVIEW), or the operator sends a message (new_message). Supports MCP tasks.",
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      execution: { taskSupport: "optional" },
    },
    {
      async createTask(args, extra) {
        const ttl = Math.max(extra.taskRequestedTtl ?? 0, args.timeout_seconds * 1000 + RESULT_KEPT_MS);
        const task = await extra.taskStore.createTask({ ttl, pollInterval: MCP_TASK_POLL_MS });
        void runWait(server, backend, args, extra, task.taskId);
        return { task };
      },
      getTask: (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
}
