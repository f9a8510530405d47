import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Mode } from "../../common/mode";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { ModeSchema, modeOf } from "../task.view";
import { success } from "../tool-result";

const DEPOSIT_ADDRESS = `query McpDepositAddress {
  depositAddress { address chainId network usdc confirmations linkedWallets mode }
}`;

interface DepositAddress {
  depositAddress: { address: string; chainId: number; network: string; usdc: string; confirmations: number; linkedWallets: string[]; mode: Mode };
}

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
        mode: ModeSchema,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (_args, { signal }) => {
      const { depositAddress } = await run<DepositAddress>(backend, DEPOSIT_ADDRESS, {}, signal);
      return success({
        address: depositAddress.address,
        chain_id: depositAddress.chainId,
        network: depositAddress.network,
        usdc_contract: depositAddress.usdc,
        confirmations: depositAddress.confirmations,
        linked_wallets: depositAddress.linkedWallets,
        mode: modeOf(depositAddress.mode),
      });
    },
  );
}
