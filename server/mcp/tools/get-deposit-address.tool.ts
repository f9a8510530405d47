import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { McpDepositAddress } from "../../api/documents";
import { restMode } from "../../api/enums";
import { ModeView } from "../../api/task";
import { success } from "../tool-result";

export function registerGetDepositAddressTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "get_deposit_address",
    {
      title: "Get your USDC deposit address",
      description:
        "Where to send USDC to top up this key's balance; only transfers from your linked wallets count, once confirmed. Test keys need none.",
      inputSchema: {},
      outputSchema: {
        address: z.string(),
        chain_id: z.number(),
        network: z.string(),
        usdc_contract: z.string().describe("Only this token is credited"),
        confirmations: z.number(),
        linked_wallets: z.array(z.string()),
        mode: ModeView,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { depositAddress } = await run(backend, McpDepositAddress, {}, signal);
      return success({
        address: depositAddress.address,
        chain_id: depositAddress.chainId,
        network: depositAddress.network,
        usdc_contract: depositAddress.usdc,
        confirmations: depositAddress.confirmations,
        linked_wallets: depositAddress.linkedWallets,
        mode: restMode(depositAddress.mode),
      });
    },
  );
}
