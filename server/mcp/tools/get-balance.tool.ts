import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { McpBalance } from "../../api/documents";
import { restMode } from "../../api/enums";
import { ModeView } from "../../api/task";
import { success } from "../tool-result";

export function registerGetBalanceTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "get_balance",
    {
      title: "Get your balance",
      description: "Your spendable balance in this key's mode (test or live), escrowed money not included.",
      inputSchema: {},
      outputSchema: {
        agent_id: z.string(),
        mode: ModeView,
        balance_usd: z.string(),
        balance_units: z.string().describe("The same in USDC base units (1 USDC = 1000000)"),
        currency: z.string(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { viewerAgent } = await run(backend, McpBalance, {}, signal);
      return success({
        agent_id: viewerAgent.id,
        mode: restMode(viewerAgent.mode),
        balance_usd: viewerAgent.balance.usd,
        balance_units: viewerAgent.balance.units,
        currency: viewerAgent.balance.currency,
      });
    },
  );
}
