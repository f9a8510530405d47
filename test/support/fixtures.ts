import { randomUUID } from "node:crypto";
import type { GraphQLClient } from "./graphql-client";

export const REGISTER_AGENT = `mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey agent { id name } } }`;
export const REGISTER_OPERATOR = `mutation($input: RegisterOperatorInput!) {
  registerOperator(input: $input) { testApiKey liveApiKey operator { id kycStatus payoutAddress } } }`;
export const TASK_FIELDS = `id status title taskType mode attempts maxAttempts testScenario deadline proofRequirements
  reward { units usd } fee { units usd } total { units usd } location { lat lng address }
  events { id kind fromStatus toStatus actorType actorId reason createdAt }`;
export const POST_TASK = `mutation($input: PostTaskInput!) { postTask(input: $input) { ${TASK_FIELDS} } }`;
export const GET_TASK = `query($id: ID!) { task(id: $id) { ${TASK_FIELDS} verification { score verdict reasons checks { name outcome detail photo } } proofs { attempt notes photos { byteSize sha256 } } } }`;

export async function registerAgent(client: GraphQLClient, name = "agent"): Promise<{ apiKey: string; id: string }> {
  const data = await client.ok(REGISTER_AGENT, { input: { name, email: `${name}-${randomUUID()}@agents.test` } });
  return { apiKey: data.registerAgent.apiKey, id: data.registerAgent.agent.id };
}

/** Hardhat's well-known account #1, as a payout address. */
export const PAYOUT_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export async function registerOperator(client: GraphQLClient, name = "operator"): Promise<{ testApiKey: string; liveApiKey: string; id: string }> {
  const data = await client.ok(REGISTER_OPERATOR, { input: { name, email: `${name}-${randomUUID()}@operators.test`, payoutAddress: PAYOUT_ADDRESS } });
  return { testApiKey: data.registerOperator.testApiKey, liveApiKey: data.registerOperator.liveApiKey, id: data.registerOperator.operator.id };
}

/** A valid task in the shape of the product brief's curl example, due tomorrow. */
export function taskInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: "Photo of storefront",
    description: "Take 2 clear photos showing the full facade and signage.",
    taskType: "PHOTO",
    location: { lat: 30.2672, lng: -97.7431, address: "123 Main St, Austin, TX" },
    rewardUsd: 15,
    deadline: new Date(Date.now() + 86_400_000).toISOString(),
    proofRequirements: ["Full facade photo", "Close-up of signage"],
    ...overrides,
  };
}

/** Polls a task until it reaches one of `statuses` (test mode finishes in milliseconds). */
export async function waitForStatus(client: GraphQLClient, apiKey: string, id: string, statuses: string[], timeoutMs = 10_000): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { task } = await client.ok(GET_TASK, { id }, apiKey);
    if (statuses.includes(task.status)) return task;
    if (Date.now() > until) throw new Error(`task ${id} is ${task.status}, still not ${statuses.join("/")} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
