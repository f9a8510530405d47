import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { McpRegisterAgent } from "../../api/documents";
import { run } from "../operation";
import { success } from "../tool-result";

export function registerRegisterAgentTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "register_agent",
    {
      title: "Register an agent account",
      description:
        "Create an agent account (needs no key) and get its test API key, shown only here: it holds test USDC, and mock operators complete its tasks in seconds.",
      inputSchema: {
        name: z.string().describe("e.g. the agent's or product's name"),
        email: z.string().describe("Of whoever runs the agent"),
      },
      outputSchema: {
        agent_id: z.string(),
        name: z.string(),
        email: z.string(),
        api_key: z.string(),
        next_step: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ name, email }, { signal }) => {
      const { registerAgent } = await run(backend, McpRegisterAgent, { input: { name, email } }, signal);
      const persist = backend.adoptKey?.(registerAgent.apiKey);
      return success({
        agent_id: registerAgent.agent.id,
        name: registerAgent.agent.name,
        email: registerAgent.agent.email,
        api_key: registerAgent.apiKey,
        next_step: persist
          ? `This session now acts as this agent: call the other tools right away, no restart needed. api_key is not shown again; to keep using it in later sessions, ${persist}.`
          : `Store api_key now: it is not shown again. To act as this agent, ${backend.keyInstructions}.`,
      });
    },
  );
}
