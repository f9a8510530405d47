import {
  CreateWebhookEndpoint,
  DeleteWebhookEndpoint,
  RedeliverWebhook,
  RotateWebhookEndpointSecret,
  UpdateWebhookEndpoint,
  WebhookDeliveries,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpoints,
  WebhookEventTypes,
} from "../api/documents";
import { WebhookDeliveryStatus } from "../api/enums";
import type { CreateWebhookEndpointInput, RotateWebhookEndpointSecretInput, UpdateWebhookEndpointInput } from "../api/operations.generated";
import { presentDelivery, presentDeliverySummary, presentEndpoint } from "../api/webhook";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { errors, jsonResponse, ref, type Parameter } from "./rest.route";

/**
 * Webhook endpoint management over the GraphQL webhook operations
 * (server/webhooks): register a URL for signed task events, read the
 * delivery log, redeliver. A task's own callback_url is given on POST /tasks
 * and shows up here as an endpoint with its task_id.
 */

const DELIVERY_PARAMETERS: Parameter[] = [
  { name: "endpoint_id", in: "query", description: "Only deliveries to this endpoint", schema: { type: "string" } },
  { name: "task_id", in: "query", description: "Only deliveries about this task", schema: { type: "string" } },
  { name: "status", in: "query", description: "Only deliveries in this status", schema: { type: "string", enum: Object.values(WebhookDeliveryStatus) } },
  { name: "limit", in: "query", description: "Page size, 1 to 100", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
  { name: "after", in: "query", description: "pagination.next_cursor of the previous page", schema: { type: "string" } },
];

const endpointResponse = (status: string, description: string) => ({ [status]: jsonResponse(description, ref("WebhookEndpoint")) });
const deliveryResponse = (status: string, description: string) => ({ [status]: jsonResponse(description, ref("WebhookDelivery")) });

export function webhooksResource(graphql: OperationRunner): RestResource {
  const tags = ["Webhooks"];
  return {
    inputs: {
      CreateWebhookEndpointRequest: { graphqlType: "CreateWebhookEndpointInput", omit: ["idempotencyKey"] },
      UpdateWebhookEndpointRequest: { graphqlType: "UpdateWebhookEndpointInput" },
      RotateWebhookEndpointSecretRequest: { graphqlType: "RotateWebhookEndpointSecretInput" },
    },
    routes: [
      {
        method: "post",
        path: "/webhooks/endpoints",
        operation: {
          operationId: "createWebhookEndpoint",
          summary: "Register a URL to receive signed task events",
          description: "The signing secret is returned once. Test-mode endpoints may be http and loopback; live ones must be https on a public address.",
          tags,
          requestBody: { required: true, content: { "application/json": { schema: ref("CreateWebhookEndpointRequest") } } },
          responses: { "201": jsonResponse("The endpoint and its signing secret", ref("WebhookEndpointCreated")), ...errors(403, 422) },
        },
        async handle({ ctx, body, idempotencyKey }) {
          const { createWebhookEndpoint: created } = await graphql.run(CreateWebhookEndpoint, ctx, { input: { ...(camelizeKeys(body) as CreateWebhookEndpointInput), idempotencyKey } });
          return { status: 201, body: { ...presentEndpoint(created.endpoint), secret: created.secret } };
        },
      },
      {
        method: "get",
        path: "/webhooks/endpoints",
        operation: {
          operationId: "listWebhookEndpoints",
          summary: "The agent's endpoints in the key's mode, newest first (tasks' callback URLs included)",
          tags,
          responses: { "200": jsonResponse("The endpoints", ref("WebhookEndpointList")), ...errors(403) },
        },
        async handle({ ctx }) {
          const { webhookEndpoints } = await graphql.run(WebhookEndpoints, ctx);
          return { status: 200, body: { endpoints: webhookEndpoints.map(presentEndpoint) } };
        },
      },
      {
        method: "get",
        path: "/webhooks/endpoints/{id}",
        operation: { operationId: "getWebhookEndpoint", summary: "One endpoint", tags, responses: { ...endpointResponse("200", "The endpoint"), ...errors(403, 404) } },
        async handle({ ctx, params }) {
          const { webhookEndpoint } = await graphql.run(WebhookEndpoint, ctx, { id: params.id });
          return { status: 200, body: presentEndpoint(webhookEndpoint) };
        },
      },
      {
        method: "patch",
        path: "/webhooks/endpoints/{id}",
        operation: {
          operationId: "updateWebhookEndpoint",
          summary: "Change an endpoint; enabled: true re-enables one disabled after persistent failure",
          tags,
          requestBody: { required: true, content: { "application/json": { schema: ref("UpdateWebhookEndpointRequest") } } },
          responses: { ...endpointResponse("200", "The endpoint as changed"), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { updateWebhookEndpoint } = await graphql.run(UpdateWebhookEndpoint, ctx, { id: params.id, input: camelizeKeys(body) as UpdateWebhookEndpointInput });
          return { status: 200, body: presentEndpoint(updateWebhookEndpoint) };
        },
      },
      {
        method: "post",
        path: "/webhooks/endpoints/{id}/rotate-secret",
        operation: {
          operationId: "rotateWebhookEndpointSecret",
          summary: "Replace the signing secret; both secrets sign every delivery until previous_secret_expires_at",
          description:
            "The new secret is returned once and the endpoint signs with Standard Webhooks from now on (a LEGACY endpoint keeps sending HumanOps-Signature with its old secret during the overlap). The overlap lasts a day unless previous_secret_expires_at says otherwise (at most 7 days; a past time ends it at once). Send an Idempotency-Key, or your own secret, so a retry does not rotate twice.",
          tags,
          requestBody: { required: false, content: { "application/json": { schema: ref("RotateWebhookEndpointSecretRequest") } } },
          responses: { "200": jsonResponse("The endpoint and its new signing secret", ref("WebhookEndpointSecretRotated")), ...errors(403, 404, 422) },
        },
        async handle({ ctx, params, body }) {
          const { rotateWebhookEndpointSecret: rotated } = await graphql.run(RotateWebhookEndpointSecret, ctx, { id: params.id, input: camelizeKeys(body ?? {}) as RotateWebhookEndpointSecretInput });
          return { status: 200, body: { ...presentEndpoint(rotated.endpoint), secret: rotated.secret } };
        },
      },
      {
        method: "delete",
        path: "/webhooks/endpoints/{id}",
        operation: {
          operationId: "deleteWebhookEndpoint",
          summary: "Delete an endpoint and its delivery log",
          tags,
          responses: { "200": jsonResponse("Deleted", ref("WebhookEndpointDeleted")), ...errors(403, 404) },
        },
        async handle({ ctx, params }) {
          const { deleteWebhookEndpoint } = await graphql.run(DeleteWebhookEndpoint, ctx, { id: params.id });
          return { status: 200, body: { endpoint_id: deleteWebhookEndpoint, deleted: true } };
        },
      },
      {
        method: "get",
        path: "/webhooks/deliveries",
        fieldAliases: { first: "limit", "filter.endpointId": "endpoint_id", "filter.taskId": "task_id", "filter.status": "status" },
        operation: {
          operationId: "listWebhookDeliveries",
          summary: "The delivery log, newest first",
          tags,
          parameters: DELIVERY_PARAMETERS,
          responses: { "200": jsonResponse("A page of deliveries", ref("WebhookDeliveryList")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const filter = { endpointId: query.endpoint_id, taskId: query.task_id, status: query.status };
          const { webhookDeliveries: page } = await graphql.run(WebhookDeliveries, ctx, { filter, first: query.limit, after: query.after });
          return {
            status: 200,
            body: {
              deliveries: page.nodes.map(presentDeliverySummary),
              pagination: { limit: query.limit, has_more: page.pageInfo.hasNextPage, next_cursor: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null },
            },
          };
        },
      },
      {
        method: "get",
        path: "/webhooks/deliveries/{id}",
        operation: {
          operationId: "getWebhookDelivery",
          summary: "One delivery with its payload and every attempt",
          tags,
          responses: { ...deliveryResponse("200", "The delivery"), ...errors(403, 404) },
        },
        async handle({ ctx, params }) {
          const { webhookDelivery } = await graphql.run(WebhookDelivery, ctx, { id: params.id });
          return { status: 200, body: presentDelivery(webhookDelivery) };
        },
      },
      {
        method: "post",
        path: "/webhooks/deliveries/{id}/redeliver",
        operation: {
          operationId: "redeliverWebhook",
          summary: "Send a delivery again now, under the same event id (receivers de-duplicate by it)",
          tags,
          requestBody: { required: false, content: { "application/json": { schema: { type: "object", additionalProperties: false, properties: {} } } } },
          responses: { ...deliveryResponse("200", "The delivery, due again"), ...errors(403, 404) },
        },
        async handle({ ctx, params }) {
          const { redeliverWebhook } = await graphql.run(RedeliverWebhook, ctx, { id: params.id });
          return { status: 200, body: presentDelivery(redeliverWebhook) };
        },
      },
      {
        method: "get",
        path: "/webhooks/event-types",
        operation: {
          operationId: "listWebhookEventTypes",
          summary: "Every event type an endpoint can subscribe to",
          tags,
          responses: { "200": jsonResponse("The event types", ref("WebhookEventTypes")) },
        },
        async handle({ ctx }) {
          const { webhookEventTypes } = await graphql.run(WebhookEventTypes, ctx);
          return { status: 200, body: { event_types: webhookEventTypes } };
        },
      },
    ],
  };
}
