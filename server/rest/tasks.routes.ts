import { TaskStatus, TaskType, ReviewDecision } from "../api/enums";
import { CancelTask, ChangeTask, DisputeTask, GetTask, ListTasks, PostTask, ReviewTask, TipTask } from "../api/documents";
import { encodePaymentResponseHeader } from "@x402/core/http";
import type { ChangeTaskInput, PostTaskInput } from "../api/operations.generated";
import { presentTask, presentTaskSummary, type GqlTask } from "../api/task";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { errors, jsonResponse, ref, type Parameter } from "./rest.route";

const MAX_PAGE = 100;

const reason = (description: string) => ({ type: ["string", "null"], maxLength: 1000, description });

const LIST_PARAMETERS: Parameter[] = [
  { name: "status", in: "query", description: "Only tasks in this status", schema: { type: "string", enum: Object.values(TaskStatus) } },
  { name: "task_type", in: "query", description: "Only tasks of this type", schema: { type: "string", enum: Object.values(TaskType) } },
  { name: "limit", in: "query", description: `Page size, 1 to ${MAX_PAGE}`, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE, default: 20 } },
  { name: "offset", in: "query", description: "Tasks to skip (newest first)", schema: { type: "integer", minimum: 0, default: 0 } },
];

/** The x402 PAYMENT-RESPONSE header of a task posted with a payment (or found again under its Idempotency-Key). */
function paymentResponse(task: GqlTask): Record<string, string> | undefined {
  const paid = task.x402Payment;
  if (!paid || !task.escrow) return undefined;
  return { "PAYMENT-RESPONSE": encodePaymentResponseHeader({ success: true, payer: paid.payer, transaction: paid.transaction, network: `eip155:${task.escrow.chainId}` }) };
}

const taskResponse = (status: string, description: string) => ({ [status]: jsonResponse(description, ref("Task")) });

/** The agent's task routes: post, list, read, cancel and the manual-review decision. */
export function tasksResource(graphql: OperationRunner): RestResource {
  return {
    inputs: { PostTaskRequest: { graphqlType: "PostTaskInput", omit: ["idempotencyKey", "x402Payment"] }, ChangeTaskRequest: { graphqlType: "ChangeTaskInput" } },
    schemas: {
      CancelTaskRequest: { type: "object", additionalProperties: false, properties: { reason: reason("Why; recorded in the task's events") } },
      ReviewTaskRequest: {
        type: "object",
        additionalProperties: false,
        required: ["decision"],
        properties: {
          decision: { type: "string", enum: Object.values(ReviewDecision), description: "APPROVE pays the operator; REJECT lets them resubmit while attempts and time remain" },
          reason: reason("Why; recorded in the task's events"),
        },
      },
      DisputeTaskRequest: {
        type: "object",
        additionalProperties: false,
        required: ["reason"],
        properties: { reason: { type: "string", minLength: 1, maxLength: 1000, description: "What is wrong with the proof; shown to the operator and the platform's staff" } },
      },
      TipTaskRequest: {
        type: "object",
        additionalProperties: false,
        required: ["amount_usd"],
        properties: {
          amount_usd: { type: ["string", "number"], description: "The tip in USD (USDC), e.g. \"2.50\"; from the agent's balance" },
          note: reason("A note to the operator"),
        },
      },
    },
    routes: [
      {
        method: "post",
        path: "/tasks",
        // The payment arrives as a header, not in the body.
        fieldAliases: { x402Payment: "PAYMENT-SIGNATURE" },
        operation: {
          operationId: "postTask",
          summary: "Post a task",
          description: "reward_usd + the platform fee move from the agent's balance into escrow. A test key's task is completed by a mock operator within seconds.",
          tags: ["Tasks"],
          parameters: [
            {
              name: "PAYMENT-SIGNATURE",
              in: "header",
              description: "An x402 v2 payment of reward + fee from the agent's own wallet, answering a 402's PAYMENT-REQUIRED (what @x402/fetch and @x402/axios send); the task is then paid from it instead of the balance",
              schema: { type: "string" },
            },
          ],
          requestBody: { required: true, content: { "application/json": { schema: ref("PostTaskRequest") } } },
          responses: {
            "201": {
              ...jsonResponse("The task, POSTED", ref("Task")),
              headers: { "PAYMENT-RESPONSE": { description: "With PAYMENT-SIGNATURE: the x402 settlement (base64 JSON: success, payer, transaction, network)", schema: { type: "string" } } },
            },
            ...errors(402, 403, 422),
          },
        },
        async handle({ ctx, body, idempotencyKey, paymentSignature }) {
          // The body passed the PostTaskRequest schema; GraphQL checks the input again against PostTaskInput.
          const input = { ...(camelizeKeys(body) as PostTaskInput), idempotencyKey, x402Payment: paymentSignature };
          const { postTask: task } = await graphql.run(PostTask, ctx, { input });
          return { status: 201, body: presentTask(task), headers: paymentSignature ? paymentResponse(task) : undefined };
        },
      },
      {
        method: "get",
        path: "/tasks",
        fieldAliases: { first: "limit" },
        operation: {
          operationId: "listTasks",
          summary: "The agent's tasks, newest first",
          tags: ["Tasks"],
          parameters: LIST_PARAMETERS,
          responses: { "200": jsonResponse("A page of tasks", ref("TaskList")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const filter = { status: query.status, taskType: query.task_type };
          const { tasks } = await graphql.run(ListTasks, ctx, { filter, first: query.limit, offset: query.offset });
          return {
            status: 200,
            body: {
              tasks: tasks.nodes.map(presentTaskSummary),
              pagination: { limit: query.limit, offset: query.offset, total: tasks.totalCount, has_more: query.offset + tasks.nodes.length < tasks.totalCount },
            },
          };
        },
      },
      {
        method: "get",
        path: "/tasks/{id}",
        operation: {
          operationId: "getTask",
          summary: "One task with its events, latest proof and verification",
          description: "An agent sees its own tasks; an operator sees open tasks and the tasks it holds, with fee_usd and total_usd null (an operator sees its reward only).",
          tags: ["Tasks"],
          responses: { ...taskResponse("200", "The task"), ...errors(404) },
        },
        async handle({ ctx, params }) {
          const { task } = await graphql.run(GetTask, ctx, { id: params.id });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/cancel",
        operation: {
          operationId: "cancelTask",
          summary: "Cancel a POSTED, ACCEPTED or REJECTED task; everything in escrow goes back to the agent",
          description: "Proof waiting for a decision (SUBMITTED, MANUAL_REVIEW) is decided first: 409.",
          tags: ["Tasks"],
          requestBody: { required: false, content: { "application/json": { schema: ref("CancelTaskRequest") } } },
          responses: { ...taskResponse("200", "The task, CANCELLED"), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { cancelTask: task } = await graphql.run(CancelTask, ctx, { id: params.id, reason: body?.reason });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/review",
        operation: {
          operationId: "reviewTask",
          summary: "Decide on proof the Guardian sent to MANUAL_REVIEW",
          tags: ["Tasks"],
          requestBody: { required: true, content: { "application/json": { schema: ref("ReviewTaskRequest") } } },
          responses: { ...taskResponse("200", "The task, VERIFIED (then PAID) or REJECTED"), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { reviewTask: task } = await graphql.run(ReviewTask, ctx, { id: params.id, decision: body.decision, reason: body.reason });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/dispute",
        operation: {
          operationId: "disputeTask",
          summary: "Dispute verified proof while the release is held (review_window_minutes, until release_held_until)",
          description: "The task becomes DISPUTED and its money stays in escrow until HumanOps staff decide: release to the operator or refund to the agent. A task without a review window, or whose window closed, is 409.",
          tags: ["Tasks"],
          requestBody: { required: true, content: { "application/json": { schema: ref("DisputeTaskRequest") } } },
          responses: { ...taskResponse("200", "The task, DISPUTED"), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { disputeTask: task } = await graphql.run(DisputeTask, ctx, { id: params.id, reason: body.reason });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "patch",
        path: "/tasks/{id}",
        operation: {
          operationId: "changeTask",
          summary: "Change a task: its text while POSTED, a higher reward or a later deadline until proof is submitted",
          description:
            "Give only what changes. A raise (and its fee) moves from the agent's balance into escrow, and the escrow is amended on chain (TaskEscrow.amend). Each change is a TASK_CHANGED event the operator sees; an operator holding the task may then release it without penalty.",
          tags: ["Tasks"],
          requestBody: { required: true, content: { "application/json": { schema: ref("ChangeTaskRequest") } } },
          responses: { ...taskResponse("200", "The task, changed"), ...errors(402, 403, 404, 422) },
        },
        async handle({ ctx, params, body }) {
          const input = camelizeKeys(body) as ChangeTaskInput;
          const { changeTask: task } = await graphql.run(ChangeTask, ctx, { id: params.id, input });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/tip",
        operation: {
          operationId: "tipTask",
          summary: "Tip the operator of a PAID task, paid on chain to their payout address",
          tags: ["Tasks"],
          requestBody: { required: true, content: { "application/json": { schema: ref("TipTaskRequest") } } },
          responses: { ...taskResponse("200", "The task, with the tip in tips"), ...errors(402, 403, 404, 422) },
        },
        async handle({ ctx, params, body }) {
          const { tipTask: task } = await graphql.run(TipTask, ctx, { id: params.id, amountUsd: String(body.amount_usd), note: body.note });
          return { status: 200, body: presentTask(task) };
        },
      },
    ],
  };
}
