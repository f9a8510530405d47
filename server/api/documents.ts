import { graphql } from "./document";
import type { Mode, ReviewDecision, TaskStatus, TaskType } from "./enums";
import type { GqlAgentBalance, GqlAgentRegistration, GqlKycSession, GqlOperatorRegistration } from "./account";
import { TASK_SELECTION, TASK_SUMMARY_SELECTION, type AgentMoney, type GqlOperatorTask, type GqlTask, type GqlTaskSummary } from "./task";
import { DELIVERY_SELECTION, DELIVERY_SUMMARY_SELECTION, ENDPOINT_SELECTION, type GqlDelivery, type GqlDeliverySummary, type GqlEndpoint } from "./webhook";

/**
 * Every GraphQL operation REST and MCP run, typed by what it selects and
 * takes. The server checks each against its schema at start
 * (server/graphql/runner.ts); the stdio MCP server sends them to /graphql.
 */

type Variables = Record<string, unknown>;
type Id = { id: string };
type PageInfo = { hasNextPage: boolean; endCursor: string | null };
type TaskFilter = { status?: TaskStatus; taskType?: TaskType };

// ── REST: agents ──────────────────────────────────────────────────────────────

export const RegisterAgent = graphql<{ registerAgent: GqlAgentRegistration }, { input: unknown }>(`mutation RegisterAgent($input: RegisterAgentInput!) {
  registerAgent(input: $input) { apiKey agent { id name email createdAt } }
}`);
export const AgentBalance = graphql<{ viewerAgent: GqlAgentBalance }>(`query AgentBalance { viewerAgent { id mode balance { usd } } }`);

// ── REST: tasks ───────────────────────────────────────────────────────────────

export const PostTask = graphql<{ postTask: GqlTask }, { input: Variables }>(`mutation PostTask($input: PostTaskInput!) { postTask(input: $input) { ${TASK_SELECTION} } }`);
/** Read by agents and operators: an operator gets no fee or total. */
export const GetTask = graphql<{ task: GqlTask<AgentMoney> }, Id>(`query GetTask($id: ID!) { task(id: $id) { ${TASK_SELECTION} } }`);
export const ListTasks = graphql<{ tasks: { totalCount: number; nodes: GqlTaskSummary[] } }, { filter?: TaskFilter; first: number; offset?: number }>(`query ListTasks($filter: TaskFilter, $first: Int!, $offset: Int) {
  tasks(filter: $filter, first: $first, offset: $offset) { totalCount nodes { ${TASK_SUMMARY_SELECTION} } }
}`);
export const CancelTask = graphql<{ cancelTask: GqlTask }, Id & { reason?: string }>(
  `mutation CancelTask($id: ID!, $reason: String) { cancelTask(id: $id, reason: $reason) { ${TASK_SELECTION} } }`,
);
export const ReviewTask = graphql<{ reviewTask: GqlTask }, Id & { decision: ReviewDecision; reason?: string }>(`mutation ReviewTask($id: ID!, $decision: ReviewDecision!, $reason: String) {
  reviewTask(id: $id, decision: $decision, reason: $reason) { ${TASK_SELECTION} }
}`);

// ── REST: operators ───────────────────────────────────────────────────────────

export const RegisterOperator = graphql<{ registerOperator: GqlOperatorRegistration }, { input: unknown }>(`mutation RegisterOperator($input: RegisterOperatorInput!) {
  registerOperator(input: $input) { testApiKey liveApiKey operator { id name payoutAddress kycStatus createdAt } }
}`);
export const AvailableTasks = graphql<
  { availableTasks: Array<{ distanceKm: number; task: GqlTaskSummary<null> }> },
  { near: { lat: number; lng: number }; radiusKm: number; taskType?: TaskType; first: number }
>(`query AvailableTasks($near: GeoPointInput!, $radiusKm: Float!, $taskType: TaskType, $first: Int!) {
  availableTasks(near: $near, radiusKm: $radiusKm, taskType: $taskType, first: $first) { distanceKm task { ${TASK_SUMMARY_SELECTION} } }
}`);
export const StartKyc = graphql<{ startKyc: GqlKycSession }>(`mutation StartKyc { startKyc { applicantId accessToken expiresAt levelName kycStatus } }`);
export const AcceptTask = graphql<{ acceptTask: GqlOperatorTask }, Id>(`mutation AcceptTask($id: ID!) { acceptTask(id: $id) { ${TASK_SELECTION} } }`);
export const SubmitProof = graphql<{ submitProof: GqlOperatorTask }, { taskId: string; input: { photos: Array<{ upload: string }>; notes?: string } }>(
  `mutation SubmitProof($taskId: ID!, $input: SubmitProofInput!) { submitProof(taskId: $taskId, input: $input) { ${TASK_SELECTION} } }`,
);
export const MyTasks = graphql<
  { myTasks: { totalCount: number; pageInfo: PageInfo; nodes: GqlTaskSummary<null>[] } },
  { filter?: TaskFilter; first: number; after?: string }
>(`query MyTasks($filter: TaskFilter, $first: Int!, $after: String) {
  myTasks(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${TASK_SUMMARY_SELECTION} } }
}`);
export const ReleaseTask = graphql<{ releaseTask: GqlOperatorTask }, Id & { reason?: string }>(
  `mutation ReleaseTask($id: ID!, $reason: String) { releaseTask(id: $id, reason: $reason) { ${TASK_SELECTION} } }`,
);

// ── REST: webhooks ────────────────────────────────────────────────────────────

export const CreateWebhookEndpoint = graphql<{ createWebhookEndpoint: { secret: string; endpoint: GqlEndpoint } }, { input: Variables }>(`mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } }
}`);
export const WebhookEndpoints = graphql<{ webhookEndpoints: GqlEndpoint[] }>(`query WebhookEndpoints { webhookEndpoints { ${ENDPOINT_SELECTION} } }`);
export const WebhookEndpoint = graphql<{ webhookEndpoint: GqlEndpoint }, Id>(`query WebhookEndpoint($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_SELECTION} } }`);
export const UpdateWebhookEndpoint = graphql<{ updateWebhookEndpoint: GqlEndpoint }, Id & { input: unknown }>(`mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT_SELECTION} }
}`);
export const RotateWebhookEndpointSecret = graphql<{ rotateWebhookEndpointSecret: { secret: string; endpoint: GqlEndpoint } }, Id & { input: unknown }>(`mutation RotateWebhookEndpointSecret($id: ID!, $input: RotateWebhookEndpointSecretInput) {
  rotateWebhookEndpointSecret(id: $id, input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } }
}`);
export const DeleteWebhookEndpoint = graphql<{ deleteWebhookEndpoint: string }, Id>(`mutation DeleteWebhookEndpoint($id: ID!) { deleteWebhookEndpoint(id: $id) }`);
export const WebhookDeliveries = graphql<
  { webhookDeliveries: { nodes: GqlDeliverySummary[]; pageInfo: PageInfo } },
  { filter?: { endpointId?: string; taskId?: string; status?: string }; first: number; after?: string }
>(`query WebhookDeliveries($filter: WebhookDeliveryFilter, $first: Int!, $after: ID) {
  webhookDeliveries(filter: $filter, first: $first, after: $after) { nodes { ${DELIVERY_SUMMARY_SELECTION} } pageInfo { hasNextPage endCursor } }
}`);
export const WebhookDelivery = graphql<{ webhookDelivery: GqlDelivery }, Id>(`query WebhookDelivery($id: ID!) { webhookDelivery(id: $id) { ${DELIVERY_SELECTION} } }`);
export const RedeliverWebhook = graphql<{ redeliverWebhook: GqlDelivery }, Id>(`mutation RedeliverWebhook($id: ID!) { redeliverWebhook(id: $id) { ${DELIVERY_SELECTION} } }`);
export const WebhookEventTypes = graphql<{ webhookEventTypes: string[] }>(`query WebhookEventTypes { webhookEventTypes }`);

// ── MCP ───────────────────────────────────────────────────────────────────────

/** A task's change notices (stdio, over graphql-ws). */
export const McpTaskChanged = graphql<{ taskUpdated: { eventId: string } }, Id>(`subscription McpTaskChanged($id: ID!) { taskUpdated(taskId: $id) { eventId } }`);
/** The cheap part of a task that tells whether it changed. */
export const McpTaskPulse = graphql<{ task: { status: TaskStatus; updatedAt: string } }, Id>(`query McpTaskPulse($id: ID!) { task(id: $id) { status updatedAt } }`);
export const McpTask = graphql<{ task: GqlTask }, Id>(`query McpTask($id: ID!) { task(id: $id) { ${TASK_SELECTION} } }`);
export const McpTaskResources = graphql<{ tasks: { nodes: Array<{ id: string; title: string; status: string }> } }, { first: number }>(
  `query McpTaskResources($first: Int!) { tasks(first: $first) { nodes { id title status } } }`,
);
export const McpTasks = graphql<
  { tasks: { totalCount: number; pageInfo: PageInfo; nodes: GqlTaskSummary[] } },
  { filter: TaskFilter; first: number; after?: string }
>(`query McpTasks($filter: TaskFilter, $first: Int!, $after: String) {
  tasks(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${TASK_SUMMARY_SELECTION} } } }`);
export const McpPostTask = graphql<{ postTask: GqlTaskSummary }, { input: Variables }>(
  `mutation McpPostTask($input: PostTaskInput!) { postTask(input: $input) { ${TASK_SUMMARY_SELECTION} } }`,
);
export const McpCancelTask = graphql<{ cancelTask: GqlTaskSummary }, Id & { reason?: string }>(
  `mutation McpCancelTask($id: ID!, $reason: String) { cancelTask(id: $id, reason: $reason) { ${TASK_SUMMARY_SELECTION} } }`,
);
export const McpReviewTask = graphql<{ reviewTask: GqlTaskSummary }, Id & { decision: ReviewDecision; reason?: string }>(`mutation McpReviewTask($id: ID!, $decision: ReviewDecision!, $reason: String) {
  reviewTask(id: $id, decision: $decision, reason: $reason) { ${TASK_SUMMARY_SELECTION} } }`);
export const McpRegisterAgent = graphql<{ registerAgent: { apiKey: string; agent: { id: string; name: string; email: string } } }, { input: { name: string; email: string } }>(
  `mutation McpRegisterAgent($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey agent { id name email } } }`,
);
export const McpEstimateCost = graphql<
  {
    estimateCost: { reward: { usd: string }; fee: { usd: string }; total: { units: string; usd: string }; feeBps: number };
    viewerAgent: { balance: { units: string; usd: string } };
  },
  { reward: string | number }
>(`query McpEstimateCost($reward: UsdAmount!) {
  estimateCost(rewardUsd: $reward) { reward { usd } fee { usd } total { units usd } feeBps }
  viewerAgent { balance { units usd } } }`);
export const McpBalance = graphql<{ viewerAgent: { id: string; mode: Mode; balance: { units: string; usd: string; currency: string } } }>(
  `query McpBalance { viewerAgent { id mode balance { units usd currency } } }`,
);
export const McpDepositAddress = graphql<{
  depositAddress: { address: string; chainId: number; network: string; usdc: string; confirmations: number; linkedWallets: string[]; mode: Mode };
}>(`query McpDepositAddress {
  depositAddress { address chainId network usdc confirmations linkedWallets mode }
}`);
export const McpCreateWebhook = graphql<{ createWebhookEndpoint: { secret: string; endpoint: GqlEndpoint } }, { input: Variables }>(`mutation McpCreateWebhook($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } } }`);
export const McpWebhooks = graphql<{ webhookEndpoints: GqlEndpoint[] }>(`query McpWebhooks { webhookEndpoints { ${ENDPOINT_SELECTION} } }`);
export const McpDeleteWebhook = graphql<{ deleteWebhookEndpoint: string }, Id>(`mutation McpDeleteWebhook($id: ID!) { deleteWebhookEndpoint(id: $id) }`);
