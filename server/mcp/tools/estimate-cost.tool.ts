import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { UsdAmount } from "../inputs";
import { McpEstimateCost } from "../../api/documents";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerEstimateCostTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "estimate_cost",
    {
      title: "Estimate what a task costs",
      description:
        "What post_task would take: the reward, the fee on top and the total held in escrow, against your balance. Nothing is reserved.",
      inputSchema: { reward_usd: UsdAmount },
      outputSchema: {
        reward_usd: z.string(),
        fee_usd: z.string(),
        total_usd: z.string(),
        fee_bps: z.int().min(0).max(10_000).describe("100 = 1%"),
        balance_usd: z.string(),
        affordable: z.boolean(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ reward_usd }, { signal }) => {
      const { estimateCost, viewerAgent } = await run(backend, McpEstimateCost, { reward: reward_usd }, signal);
      return success({
        reward_usd: estimateCost.reward.usd,
        fee_usd: estimateCost.fee.usd,
        total_usd: estimateCost.total.usd,
        fee_bps: estimateCost.feeBps,
        balance_usd: viewerAgent.balance.usd,
        affordable: BigInt(viewerAgent.balance.units) >= BigInt(estimateCost.total.units),
      });
    },
  );
}
