import type { GraphQLBackend } from "./graphql.backend";
import { run } from "./operation";
import { TASK_FIELDS, toTaskView, type TaskData, type TaskView } from "./task.view";

const GET_TASK = `query McpTask($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`;

/** One of the caller's tasks, with its event log. */
export async function getTask(backend: GraphQLBackend, taskId: string, signal?: AbortSignal): Promise<TaskView> {
  const { task } = await run<{ task: TaskData }>(backend, GET_TASK, { id: taskId }, signal);
  return toTaskView(task);
}

/** Runs a mutation that answers with a task, and returns that task as the tools show it. */
export async function mutateTask(backend: GraphQLBackend, mutation: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<TaskView> {
  const data = await run<Record<string, TaskData>>(backend, mutation, variables, signal);
  return toTaskView(Object.values(data)[0]);
}
