import type { GraphQLDocument } from "../api/document";
import { McpTask } from "../api/documents";
import type { GqlTaskSummary } from "../api/task";
import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { toTaskStep, toTaskView, type TaskStep, type TaskView } from "./task.view";

/** One of the caller's tasks, with its event log. */
export async function getTask(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskView> {
  const { task } = await run(backend, McpTask, { id: taskId }, signal);
  return toTaskView(task);
}

/** Runs a mutation that answers with a task (TASK_SUMMARY_SELECTION), and returns it in brief with its next step. */
export async function mutateTask<TVariables>(
  backend: GraphQLBackend,
  mutation: GraphQLDocument<Record<string, GqlTaskSummary>, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
): Promise<TaskStep> {
  const data = await run(backend, mutation, variables, signal);
  return toTaskStep(Object.values(data)[0]);
}
