import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TaskType, TestScenario } from "../../api/enums";
import { ACCEPT_WINDOW_MINUTES, LIMITS, RATING, REVIEW_WINDOW_MINUTES } from "../../api/limits";
import { McpPostTask } from "../../api/documents";
import { TaskStepView } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { IsoDateTime, UsdAmount, exampleDeadline } from "../inputs";
import { run } from "../operation";
import { toTaskStep } from "../task.view";
import { success } from "../tool-result";
import { orPaymentRequired, paymentFromMeta, paymentRequiredOf, paymentRequiredResult, paymentResponseMeta } from "../x402-payment";

const PAID_RESOURCE = "Post a HumanOps task: its reward plus the platform fee go into the task's escrow";

export function registerPostTaskTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "post_task",
    {
      title: "Post a task for a human",
      description:
        "Ask a verified human to do something in the physical world (photos, a delivery, an inspection). " +
        "reward_usd + fee go into escrow now: the human is paid once the AI Guardian verifies their photo proof, " +
        "you are refunded if it is cancelled or expires. Then call wait_for_task. " +
        "Paid from your balance; when it does not cover the total, an x402 client may pay from its own wallet " +
        '(x402 MCP transport: the result is the PaymentRequired; call again with the payment in _meta["x402/payment"]).',
      inputSchema: {
        title: z.string().describe('At most 200 characters, e.g. "Photo of storefront"'),
        description: z.string().describe("What the human must do and capture (at most 5000 characters)"),
        task_type: z.enum(TaskType),
        location: z.object({
          lat: z.number().min(-90).max(90),
          lng: z.number().min(-180).max(180),
          address: z.string().optional().describe("Shown to the operator"),
        }),
        reward_usd: UsdAmount.describe("Paid to the human, e.g. 15 or \"12.50\"; the fee comes on top"),
        deadline: IsoDateTime.describe(`Expiry: ISO-8601 with a time zone, a minute ahead or more, e.g. ${exampleDeadline()}`),
        proof_requirements: z.array(z.string()).optional().describe('e.g. ["Full facade photo", "Close-up of signage"]'),
        max_attempts: z.int().min(1).max(LIMITS.maxAttempts).optional().describe("Proof submissions allowed (default 3)"),
        accept_window_minutes: z
          .int()
          .min(ACCEPT_WINDOW_MINUTES.min)
          .max(ACCEPT_WINDOW_MINUTES.max)
          .optional()
          .describe("Minutes a human may hold it with no proof (default 120)"),
        min_completed_tasks: z.int().min(0).max(RATING.maxMinCompletedTasks).optional().describe("Only humans with this many paid tasks may accept"),
        min_rating: z.number().min(RATING.minScore).max(RATING.maxScore).optional().describe("Only humans rated this (1-5) or better may accept"),
        test_scenario: z
          .enum(TestScenario)
          .optional()
          .describe("Test keys: the branch the mock operator walks (MANUAL: none)"),
        idempotency_key: z.string().optional().describe("Retrying with the same key never posts twice"),
        callback_url: z.string().optional().describe("Gets this task's events as signed webhooks"),
        callback_secret: z.string().optional().describe("Required with callback_url: whsec_<base64 of 24-64 bytes>"),
        review_window_minutes: z
          .int()
          .min(REVIEW_WINDOW_MINUTES.min)
          .max(REVIEW_WINDOW_MINUTES.max)
          .optional()
          .describe("Hold the payout this long after VERIFIED so you can dispute_task (default: pay at once)"),
      },
      outputSchema: orPaymentRequired(TaskStepView),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, { signal, _meta }) => {
      const input = {
        title: args.title,
        description: args.description,
        taskType: args.task_type,
        location: args.location,
        rewardUsd: args.reward_usd,
        deadline: args.deadline,
        proofRequirements: args.proof_requirements,
        maxAttempts: args.max_attempts,
        acceptWindowMinutes: args.accept_window_minutes,
        minCompletedTasks: args.min_completed_tasks,
        minRating: args.min_rating,
        testScenario: args.test_scenario,
        idempotencyKey: args.idempotency_key,
        callbackUrl: args.callback_url,
        callbackSecret: args.callback_secret,
        reviewWindowMinutes: args.review_window_minutes,
        x402Payment: paymentFromMeta(_meta),
      };
      try {
        const { postTask: task } = await run(backend, McpPostTask, { input }, signal);
        const result = success(toTaskStep(task));
        return task.x402Payment && task.escrow ? { ...result, _meta: paymentResponseMeta(task.x402Payment, task.escrow.chainId) } : result;
      } catch (err) {
        // The balance does not cover it and the task's chain takes x402: the x402 MCP transport's payment-required result.
        const required = paymentRequiredOf(err);
        if (required) return paymentRequiredResult(required, "post_task", PAID_RESOURCE, (err as Error).message);
        throw err;
      }
    },
  );
}
