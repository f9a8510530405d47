import { AgentBalance, RegisterAgent } from "../api/documents";
import type { RegisterAgentInput } from "../api/operations.generated";
import { presentAgentBalance, presentAgentRegistration } from "../api/account";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { errors, jsonResponse, ref } from "./rest.route";

/** Agent registration and balance. */
export function agentsResource(graphql: OperationRunner): RestResource {
  return {
    inputs: { RegisterAgentRequest: { graphqlType: "RegisterAgentInput" } },
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
          const { registerAgent } = await graphql.run(RegisterAgent, ctx, { input: camelizeKeys(body) as RegisterAgentInput });
          return { status: 201, body: presentAgentRegistration(registerAgent) };
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
          const { viewerAgent } = await graphql.run(AgentBalance, ctx);
          return { status: 200, body: presentAgentBalance(viewerAgent) };
        },
      },
    ],
  };
}
