import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { TASK_SELECTION, toTaskStep, toTaskView, type GqlTask, type GqlTaskSummary, type TaskStep, type TaskView } from "./task.view";

const GET_TASK = `query McpTask($id: ID!) { task(id: $id) { ${TASK_SELECTION} } }`;

/** One of the caller's tasks, with its event log. */
export async function getTask(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskView> {
  const { task } = await run<{ task: GqlTask }>(backend, GET_TASK, { id: taskId }, signal);
  return toTaskView(task);
}

/** Runs a mutation that answers with a task (TASK_SUMMARY_SELECTION), and returns it in brief with its next step. */
export async function mutateTask(backend: GraphQLBackend, mutation: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<TaskStep> {
  const data = await run<Record<string, GqlTaskSummary>>(backend, mutation, variables, signal);
  return toTaskStep(Object.values(data)[0]);
}
