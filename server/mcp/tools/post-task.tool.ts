import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TaskType, TestScenario } from "../../tasks/task.enums";
import type { GraphQLBackend } from "../graphql.backend";
import { UsdAmount } from "../inputs";
import { mutateTask } from "../task.operations";
import { TASK_SELECTION, TaskSchema } from "../task.view";
import { success } from "../tool-result";

const POST_TASK = `mutation McpPostTask($input: PostTaskInput!) { postTask(input: $input) { ${TASK_SELECTION} } }`;

export function registerPostTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "post_task",
    {
      title: "Post a task for a human",
      description:
        "Ask a KYC-verified human operator to do something in the physical world (take photos, confirm a delivery, inspect a site). " +
        "reward_usd plus the platform fee move from your balance into escrow now; the operator is paid only after the AI Guardian verifies their photo proof, " +
        "and you get everything back if the task is cancelled or expires. Returns the task in status POSTED; then call wait_for_task. " +
        "Use estimate_cost first to see the fee. Pass idempotency_key to retry safely without posting twice.",
      inputSchema: {
        title: z.string().describe('Short title, at most 200 characters, e.g. "Photo of storefront"'),
        description: z.string().describe("Exactly what the operator must do and capture, at most 5000 characters"),
        task_type: z.enum(TaskType).describe("PHOTO, DELIVERY (confirm a delivery), INSPECTION, VERIFICATION or CUSTOM"),
        location: z
          .object({
            lat: z.number().min(-90).max(90).describe("Latitude"),
            lng: z.number().min(-180).max(180).describe("Longitude"),
            address: z.string().optional().describe("Street address, shown to the operator"),
          })
          .describe("Where the task happens"),
        reward_usd: UsdAmount.describe("What the operator is paid, in USD (USDC), e.g. 15; the platform fee is added on top"),
        deadline: z.iso.datetime({ offset: true }).describe("When the task expires, ISO-8601 with a time zone, e.g. 2026-02-07T18:00:00Z; at least a minute ahead"),
        proof_requirements: z.array(z.string()).optional().describe('What the proof must show, e.g. ["Full facade photo", "Close-up of signage"]'),
        max_attempts: z.number().int().optional().describe("Proof submissions allowed, 1-10 (default 3)"),
        test_scenario: z
          .enum(TestScenario)
          .optional()
          .describe("Test-mode keys only: APPROVE (default: verified and paid), REVIEW (lands in MANUAL_REVIEW for review_proof), REJECT, EXPIRE, or MANUAL (no mock operator)"),
        idempotency_key: z.string().optional().describe("Any unique string; calling again with the same key and arguments returns the first task instead of posting twice"),
        callback_url: z.string().optional().describe("A URL of your backend that receives this task's events as signed webhooks (https; live mode needs a public address)"),
        callback_secret: z.string().optional().describe("Required with callback_url: the secret its deliveries are signed with, 24-256 characters"),
      },
      outputSchema: TaskSchema,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, { signal }) => {
      const input = {
        title: args.title,
        description: args.description,
        taskType: args.task_type,
        location: args.location,
        rewardUsd: args.reward_usd,
        deadline: args.deadline,
        proofRequirements: args.proof_requirements,
        maxAttempts: args.max_attempts,
        testScenario: args.test_scenario,
        idempotencyKey: args.idempotency_key,
        callbackUrl: args.callback_url,
        callbackSecret: args.callback_secret,
      };
      return success(await mutateTask(backend, POST_TASK, { input }, signal));
    },
  );
}
