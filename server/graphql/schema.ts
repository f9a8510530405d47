import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { createPubSub } from "@graphql-yoga/subscription";
import { AgentResolver } from "../agents/agent.resolver";
import { OperatorResolver } from "../operators/operator.resolver";
import { TaskResolver } from "../tasks/task.resolver";
import { ProofPhotoResolver, ProofResolver } from "../proofs/proof.resolver";
import { CostResolver } from "../tasks/cost.resolver";
import { TaskUpdateResolver } from "../subscriptions/task-update.resolver";
import { WebhookDeliveryResolver, WebhookEndpointResolver } from "../webhooks/webhook.resolver";
import { EscrowResolver } from "../escrow/escrow.resolver";
import { DepositResolver } from "../deposits/deposit.resolver";
import { LedgerResolver } from "../ledger/ledger.resolver";
import { KycResolver } from "../kyc/kyc.resolver";
import { MessagePhotoResolver, MessageResolver, TaskMessageFieldsResolver } from "../messages/message.resolver";
import { TaskMessageSubscriptionResolver } from "../subscriptions/task-message.resolver";
import { AgentRecordResolver, OperatorRecordResolver, ReputationResolver } from "../reputation/reputation.resolver";
import { chargeMutations } from "./admission";
import { AdminAuditEntryResolver, DisputeResolver, TaskDisputeResolver } from "../disputes/dispute.resolver";
import { TaskChangeResolver, TaskTipResolver } from "../tasks/task-change.resolver";

export const RESOLVERS = [
  AgentResolver,
  OperatorResolver,
  TaskResolver,
  ProofResolver,
  ProofPhotoResolver,
  CostResolver,
  TaskUpdateResolver,
  WebhookEndpointResolver,
  WebhookDeliveryResolver,
  EscrowResolver,
  DepositResolver,
  LedgerResolver,
  KycResolver,
  MessageResolver,
  MessagePhotoResolver,
  TaskMessageFieldsResolver,
  TaskMessageSubscriptionResolver,
  ReputationResolver,
  OperatorRecordResolver,
  AgentRecordResolver,
  TaskDisputeResolver,
  DisputeResolver,
  AdminAuditEntryResolver,
  TaskChangeResolver,
  TaskTipResolver,
] as const;

/**
 * The single API surface: REST and MCP run operations against this same
 * schema. type-graphql insists on a PubSub once there are subscriptions;
 * ours stream from the task event log (server/subscriptions) and publish
 * nothing through it, so an in-process one is all it needs. Every mutation
 * field spends from the caller's rate budget (admission.ts).
 */
export async function createSchema(): Promise<GraphQLSchema> {
  return chargeMutations(await buildSchema({ resolvers: [...RESOLVERS], validate: false, emitSchemaFile: false, pubSub: createPubSub() }));
}

/** The checked-in schema.graphql text: sorted, so it changes only when the API does. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `# Generated from the code by \`npm run schema\`; do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
