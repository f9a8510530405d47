import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpTipTask } from "../../api/documents";
import { TipSchema } from "../../api/task";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { TaskId, UsdAmount } from "../inputs";
import { success } from "../tool-result";

const TipResult = z.strictObject({
  task_id: z.string(),
  tips: z.array(TipSchema).describe("All tips on this task, oldest first"),
  next_step: z.string(),
});

export function registerTipOperatorTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "tip_operator",
    {
      title: "Tip the operator of a paid task",
      description: "Add a bonus for the operator of a PAID task, from your balance, paid on chain to their payout address.",
      inputSchema: { task_id: TaskId, amount_usd: UsdAmount, note: z.string().optional().describe("Shown to the operator") },
      outputSchema: TipResult,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ task_id, amount_usd, note }, { signal }) => {
      const { tipTask } = await run(backend, McpTipTask, { id: task_id, amountUsd: String(amount_usd), note }, signal);
      const tips = tipTask.tips.map((tip) => ({ tip_id: tip.id, amount_usd: tip.amount.usd, status: tip.status, tx_hash: tip.txHash, note: tip.note, created_at: tip.createdAt }));
      return success({ task_id: tipTask.id, tips, next_step: "Done: the tip is booked to the operator; its status becomes PAID when the transfer is mined (check_status shows it)." });
    },
  );
}
