import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Mode } from "../../common/mode";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { ToolError } from "../tool-result";

const MODE = `query McpKeyMode { viewerAgent { mode balance { usd } } }`;

interface KeyMode {
  viewerAgent: { mode: Mode; balance: { usd: string } };
}

/**
 * HumanOps's GraphQL API exposes no deposit address yet (on-chain deposits
 * come with the settlement work), so this tool says so instead of inventing
 * one; it answers for the caller's key, which it checks first.
 */
export function registerGetDepositAddressTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "get_deposit_address",
    {
      title: "Get a USDC deposit address",
      description: "Where to send USDC on Base to top up your live balance, when this HumanOps server takes deposits. Test-mode keys need no deposits: they come with test USDC.",
      inputSchema: {},
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { viewerAgent } = await run<KeyMode>(backend, MODE, {}, signal);
      const forThisKey =
        viewerAgent.mode === Mode.TEST
          ? `This is a test-mode key: it needs no deposit, its ${viewerAgent.balance.usd} test USDC pay for test tasks (get_balance).`
          : `Do not send USDC anywhere for HumanOps on the strength of this answer; your live balance is ${viewerAgent.balance.usd} USDC.`;
      throw new ToolError(
        "DEPOSITS_NOT_ENABLED",
        `this HumanOps server does not take deposits yet, so there is no deposit address. ${forThisKey} To post within your balance, lower reward_usd (estimate_cost).`,
      );
    },
  );
}
