import type { GraphQLRunner } from "./graphql.executor";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { restMode } from "./task.presenter";
import { errors, jsonResponse, ref } from "./rest.route";

const REGISTER_AGENT = `mutation RegisterAgent($input: RegisterAgentInput!) {
  registerAgent(input: $input) { apiKey agent { id name email createdAt } }
}`;

const AGENT_BALANCE = `query AgentBalance { viewerAgent { id mode balance { usd } } }`;

interface RegisterAgentData {
  registerAgent: { apiKey: string; agent: { id: string; name: string; email: string; createdAt: string } };
}

interface AgentBalanceData {
  viewerAgent: { id: string; mode: "TEST" | "LIVE"; balance: { usd: string } };
}

function modeOfKey(apiKey: string): "test" | "live" {
  return apiKey.startsWith("ho_live_") ? "live" : "test";
}

export function agentsResource(graphql: GraphQLRunner): RestResource {
  const registerAgent = graphql.operation<RegisterAgentData>(REGISTER_AGENT);
  const agentBalance = graphql.operation<AgentBalanceData>(AGENT_BALANCE);
  return {
    inputs: { RegisterAgentRequest: { graphqlType: "RegisterAgentInput" } },
    schemas: {
      AgentRegistration: {
        type: "object",
        additionalProperties: false,
        required: ["agent_id", "name", "email", "mode", "api_key", "created_at"],
        properties: {
          agent_id: { type: "string", format: "uuid" },
          name: { type: "string" },
          email: { type: "string", format: "email" },
          mode: { const: "test", description: "A new agent starts in test mode; live keys come once its wallet is linked" },
          api_key: { type: "string", pattern: "^ho_test_", description: "Shown once: store it now. Only its hash is kept." },
          created_at: { type: "string", format: "date-time" },
        },
      },
      AgentBalance: {
        type: "object",
        additionalProperties: false,
        required: ["agent_id", "mode", "balance_usd", "currency"],
        properties: {
          agent_id: { type: "string", format: "uuid" },
          mode: ref("Mode"),
          balance_usd: { type: "string", pattern: "^-?\\d+\\.\\d{2,6}$", description: "Spendable balance in the key's mode; money locked in escrow is not included" },
          currency: { const: "USDC" },
        },
      },
    },
    routes: [
      {
        method: "post",
        path: "/agents/register",
        operation: {
          operationId: "registerAgent",
          summary: "Register an agent and get its test-mode API key",
          description: "Needs no key. The agent starts with a test key (ho_test_...) and 10,000 test USDC; live keys come once its wallet is linked.",
          tags: ["Agents"],
          security: [],
          requestBody: { required: true, content: { "application/json": { schema: ref("RegisterAgentRequest") } } },
          responses: { "201": jsonResponse("The agent and its API key (shown once)", ref("AgentRegistration")) },
        },
        async handle({ ctx, body }) {
          const { registerAgent: result } = await registerAgent(ctx, { input: camelizeKeys(body) });
          const { agent } = result;
          return {
            status: 201,
            body: { agent_id: agent.id, name: agent.name, email: agent.email, mode: modeOfKey(result.apiKey), api_key: result.apiKey, created_at: agent.createdAt },
          };
        },
      },
      {
        method: "get",
        path: "/agents/balance",
        operation: {
          operationId: "getAgentBalance",
          summary: "The agent's spendable balance in the key's mode",
          tags: ["Agents"],
          responses: { "200": jsonResponse("The balance", ref("AgentBalance")), ...errors(403) },
        },
        async handle({ ctx }) {
          const { viewerAgent: agent } = await agentBalance(ctx);
          return { status: 200, body: { agent_id: agent.id, mode: restMode(agent.mode), balance_usd: agent.balance.usd, currency: "USDC" } };
        },
      },
    ],
  };
}
