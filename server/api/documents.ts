import { graphql } from "./document";
import * as operations from "./operations.generated";

/**
 * Every GraphQL operation REST and MCP run: written in
 * server/api/operations/*.graphql, typed by what they select and take from
 * schema.graphql (`npm run graphql-types` writes operations.generated.ts),
 * and registered here. The server checks each against its schema at start
 * (server/graphql/runner.ts); the stdio MCP server sends them to /graphql.
 */

// ── REST ──────────────────────────────────────────────────────────────────────

export const RegisterAgent = graphql(operations.RegisterAgent);
export const AgentBalance = graphql(operations.AgentBalance);
export const PostTask = graphql(operations.PostTask);
export const GetTask = graphql(operations.GetTask);
export const ListTasks = graphql(operations.ListTasks);
export const CancelTask = graphql(operations.CancelTask);
export const ReviewTask = graphql(operations.ReviewTask);
export const RegisterOperator = graphql(operations.RegisterOperator);
export const AvailableTasks = graphql(operations.AvailableTasks);
export const StartKyc = graphql(operations.StartKyc);
export const AcceptTask = graphql(operations.AcceptTask);
export const SubmitProof = graphql(operations.SubmitProof);
export const MyTasks = graphql(operations.MyTasks);
export const ReleaseTask = graphql(operations.ReleaseTask);
export const CreateWebhookEndpoint = graphql(operations.CreateWebhookEndpoint);
export const WebhookEndpoints = graphql(operations.WebhookEndpoints);
export const WebhookEndpoint = graphql(operations.WebhookEndpoint);
export const UpdateWebhookEndpoint = graphql(operations.UpdateWebhookEndpoint);
export const RotateWebhookEndpointSecret = graphql(operations.RotateWebhookEndpointSecret);
export const DeleteWebhookEndpoint = graphql(operations.DeleteWebhookEndpoint);
export const WebhookDeliveries = graphql(operations.WebhookDeliveries);
export const WebhookDelivery = graphql(operations.WebhookDelivery);
export const RedeliverWebhook = graphql(operations.RedeliverWebhook);
export const WebhookEventTypes = graphql(operations.WebhookEventTypes);
export const RateTask = graphql(operations.RateTask);
export const OperatorRecord = graphql(operations.OperatorRecord);
export const AgentRecord = graphql(operations.AgentRecord);

// ── MCP ───────────────────────────────────────────────────────────────────────

export const McpTaskChanged = graphql(operations.McpTaskChanged);
export const McpTaskPulse = graphql(operations.McpTaskPulse);
export const McpTask = graphql(operations.McpTask);
export const McpTaskResources = graphql(operations.McpTaskResources);
export const McpTasks = graphql(operations.McpTasks);
export const McpPostTask = graphql(operations.McpPostTask);
export const McpCancelTask = graphql(operations.McpCancelTask);
export const McpReviewTask = graphql(operations.McpReviewTask);
export const McpRegisterAgent = graphql(operations.McpRegisterAgent);
export const McpEstimateCost = graphql(operations.McpEstimateCost);
export const McpBalance = graphql(operations.McpBalance);
export const McpDepositAddress = graphql(operations.McpDepositAddress);
export const McpCreateWebhook = graphql(operations.McpCreateWebhook);
export const McpWebhooks = graphql(operations.McpWebhooks);
export const McpDeleteWebhook = graphql(operations.McpDeleteWebhook);

// ── messages ──────────────────────────────────────────────────────────────────

export const TaskMessages = graphql(operations.TaskMessages);
export const SendMessage = graphql(operations.SendMessage);
export const McpTaskMessages = graphql(operations.McpTaskMessages);
export const McpSendMessage = graphql(operations.McpSendMessage);
export const McpRateOperator = graphql(operations.McpRateOperator);
// ── disputes (REST, MCP) ──────────────────────────────────────────────────────

export const DisputeTask = graphql(operations.DisputeTask);
export const AdminDisputes = graphql(operations.AdminDisputes);
export const DecideDispute = graphql(operations.DecideDispute);
export const AdminAuditLog = graphql(operations.AdminAuditLog);
export const McpDisputeTask = graphql(operations.McpDisputeTask);
// ── changing a task (REST and MCP) ────────────────────────────────────────────

export const ChangeTask = graphql(operations.ChangeTask);
export const TipTask = graphql(operations.TipTask);
export const McpChangeTask = graphql(operations.McpChangeTask);
export const McpTipTask = graphql(operations.McpTipTask);
