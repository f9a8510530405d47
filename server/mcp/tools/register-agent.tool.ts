import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GraphQLBackend } from "../graphql.backend";
import { run } from "../operation";
import { success } from "../tool-result";

const REGISTER_AGENT = `mutation McpRegisterAgent($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey agent { id name email } } }`;

interface Registration {
  registerAgent: { apiKey: string; agent: { id: string; name: string; email: string } };
}

export function registerRegisterAgentTool(server: McpServer, backend: GraphQLBackend): void {
  server.registerTool(
    "register_agent",
    {
      title: "Register an agent account",
      description:
        "Create a HumanOps agent account and get its API key. Works without a key. The key is a test-mode key (ho_test_...) " +
        "funded with test USDC: tasks posted with it are completed by mock operators in seconds, so the whole lifecycle can be tried for free. " +
        "The key is shown only in this result.",
      inputSchema: {
        name: z.string().describe("A name for the account, e.g. the agent's or product's name"),
        email: z.string().describe("Contact email of whoever runs the agent"),
      },
      outputSchema: {
        agent_id: z.string(),
        name: z.string(),
        email: z.string(),
        api_key: z.string().describe("The new test-mode API key; shown once"),
        next_step: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ name, email }, { signal }) => {
      const { registerAgent } = await run<Registration>(backend, REGISTER_AGENT, { input: { name, email } }, signal);
      return success({
        agent_id: registerAgent.agent.id,
        name: registerAgent.agent.name,
        email: registerAgent.agent.email,
        api_key: registerAgent.apiKey,
        next_step: `Store api_key now: it is not shown again. To act as this agent, ${backend.keyInstructions}.`,
      });
    },
  );
}
