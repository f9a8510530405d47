import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { TASK_SELECTION, toTaskView, type GqlTask, type TaskView } from "./task.view";

const GET_TASK = `query McpTask($id: ID!) { task(id: $id) { ${TASK_SELECTION} } }`;

/** One of the caller's tasks, with its event log. */
export async function getTask(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskView> {
  const { task } = await run<{ task: GqlTask }>(backend, GET_TASK, { id: taskId }, signal);
  return toTaskView(task);
}

/** Runs a mutation that answers with a task, and returns that task as the tools show it. */
export async function mutateTask(backend: GraphQLBackend, mutation: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<TaskView> {
  const data = await run<Record<string, GqlTask>>(backend, mutation, variables, signal);
  return toTaskView(Object.values(data)[0]);
}
