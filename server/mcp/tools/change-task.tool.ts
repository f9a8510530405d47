import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpChangeTask } from "../../api/documents";
import { TaskStepView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { IsoDateTime, TaskId, UsdAmount } from "../inputs";
import { mutateTask } from "../task.operations";
import { success } from "../tool-result";

export function registerChangeTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "change_task",
    {
      title: "Change a task",
      description:
        "Give only what changes. While POSTED: title, description, proof_requirements. Until proof is submitted: a higher reward_usd (the raise + fee leaves your balance) or a later deadline. The operator is told and may withdraw.",
      inputSchema: {
        task_id: TaskId,
        title: z.string().optional(),
        description: z.string().optional(),
        proof_requirements: z.array(z.string()).optional().describe("Replaces the list"),
        reward_usd: UsdAmount.optional(),
        deadline: IsoDateTime.optional(),
        reason: z.string().optional().describe("Shown to the operator"),
      },
      outputSchema: TaskStepView,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, title, description, proof_requirements, reward_usd, deadline, reason }, { signal }) => {
      const input = { title, description, proofRequirements: proof_requirements, rewardUsd: reward_usd === undefined ? undefined : String(reward_usd), deadline, reason };
      return success(await mutateTask(backend, McpChangeTask, { id: task_id, input }, signal));
    },
  );
}
