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
        "Where to send USDC to top up this key's balance, on which chain and token. Only transfers from a wallet linked to your account are credited, after the stated confirmations. Test-mode keys come with test USDC and need no deposit.",
      inputSchema: {},
      outputSchema: {
        address: z.string().describe("Send USDC here"),
        chain_id: z.number().int(),
        network: z.string().describe("base, base-sepolia or local"),
        usdc_contract: z.string().describe("The USDC token contract; other tokens sent to the address are not credited"),
        confirmations: z.number().int().describe("Blocks a deposit waits for before it is credited"),
        linked_wallets: z.array(z.string()).describe("Your wallets whose transfers are credited; none yet means link one first"),
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
