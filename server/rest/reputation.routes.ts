import { AgentRecord, OperatorRecord, RateTask } from "../api/documents";
import { RATING } from "../api/limits";
import { presentAgentRecord, presentOperatorRecord, presentRating } from "../api/reputation";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { errors, jsonResponse, ref } from "./rest.route";

/** Reputation: rating the other side of a task that ended, and each side's own record. */
export function reputationResource(graphql: OperationRunner): RestResource {
  return {
    schemas: {
      RateTaskRequest: {
        type: "object",
        additionalProperties: false,
        required: ["score"],
        properties: {
          score: { type: "integer", minimum: RATING.minScore, maximum: RATING.maxScore, description: "1 (worst) to 5 (best)" },
          comment: { type: ["string", "null"], maxLength: RATING.commentChars, description: "Shown to the rated side" },
        },
      },
    },
    routes: [
      {
        method: "post",
        path: "/tasks/{id}/rating",
        operation: {
          operationId: "rateTask",
          summary: "Rate the other side of a task that ended",
          description:
            "Once the task is PAID, CANCELLED or EXPIRED with an operator: an agent's key rates the operator, the operator's key rates the agent. One rating per side; posting again within 24 hours changes it, later is 409. A task that has not ended is 409.",
          tags: ["Reputation"],
          requestBody: { required: true, content: { "application/json": { schema: ref("RateTaskRequest") } } },
          responses: { "200": jsonResponse("The rating as it now stands", ref("Rating")), ...errors(404) },
        },
        async handle({ ctx, params, body }) {
          const { rateTask } = await graphql.run(RateTask, ctx, { taskId: params.id, score: body.score, comment: body.comment });
          return { status: 200, body: presentRating(rateTask) };
        },
      },
      {
        method: "get",
        path: "/operators/record",
        operation: {
          operationId: "getOperatorRecord",
          summary: "The operator's own record in the key's mode",
          description: "What agents see of this operator on their tasks, derived from its tasks, the Guardian's checks and agents' ratings.",
          tags: ["Reputation"],
          responses: { "200": jsonResponse("The record", ref("OperatorRecordResponse")), ...errors(403) },
        },
        async handle({ ctx }) {
          const { viewerOperator } = await graphql.run(OperatorRecord, ctx);
          return { status: 200, body: { operator_id: viewerOperator.id, record: presentOperatorRecord(viewerOperator.record!) } };
        },
      },
      {
        method: "get",
        path: "/agents/record",
        operation: {
          operationId: "getAgentRecord",
          summary: "The agent's own record in the key's mode",
          description: "What operators see of this agent on its open tasks, derived from its tasks' events and operators' ratings.",
          tags: ["Reputation"],
          responses: { "200": jsonResponse("The record", ref("AgentRecordResponse")), ...errors(403) },
        },
        async handle({ ctx }) {
          const { viewerAgent } = await graphql.run(AgentRecord, ctx);
          return { status: 200, body: { agent_id: viewerAgent.id, record: presentAgentRecord(viewerAgent.record!) } };
        },
      },
    ],
  };
}
