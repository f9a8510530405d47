import type { GraphQLRunner } from "./graphql.executor";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { restMode } from "./task.presenter";
import { dateTime, errors, jsonResponse, nullable, object, ref, type JsonSchema, type Parameter } from "./rest.route";

/**
 * Webhook endpoint management over the GraphQL webhook operations
 * (server/webhooks): register a URL for signed task events, read the
 * delivery log, redeliver. A task's own callback_url is given on POST /tasks
 * and shows up here as an endpoint with its task_id.
 */
/** An endpoint as REST (and the MCP tools, server/mcp/webhook.view.ts) show it: the selection, its result and the mapping. */
export const ENDPOINT_SELECTION = `id url description eventTypes status mode taskId signatureScheme secretFingerprint previousSecretFingerprint
  previousSecretExpiresAt consecutiveFailures lastSuccessAt lastFailureAt disabledAt disabledReason createdAt updatedAt`;
const DELIVERY_SUMMARY_SELECTION = `id endpointId eventId eventType taskId status attempts lastStatusCode lastError nextAttemptDueAt deliveredAt createdAt updatedAt`;
const DELIVERY_SELECTION = `${DELIVERY_SUMMARY_SELECTION} payload attemptLog { attempt startedAt durationMs statusCode succeeded error responseExcerpt }`;

const CREATE_ENDPOINT = `mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } }
}`;
const LIST_ENDPOINTS = `query WebhookEndpoints { webhookEndpoints { ${ENDPOINT_SELECTION} } }`;
const GET_ENDPOINT = `query WebhookEndpoint($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_SELECTION} } }`;
const UPDATE_ENDPOINT = `mutation UpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT_SELECTION} }
}`;
const ROTATE_SECRET = `mutation RotateWebhookEndpointSecret($id: ID!, $input: RotateWebhookEndpointSecretInput) {
  rotateWebhookEndpointSecret(id: $id, input: $input) { secret endpoint { ${ENDPOINT_SELECTION} } }
}`;
const DELETE_ENDPOINT = `mutation DeleteWebhookEndpoint($id: ID!) { deleteWebhookEndpoint(id: $id) }`;
const LIST_DELIVERIES = `query WebhookDeliveries($filter: WebhookDeliveryFilter, $first: Int!, $after: ID) {
  webhookDeliveries(filter: $filter, first: $first, after: $after) { nodes { ${DELIVERY_SUMMARY_SELECTION} } pageInfo { hasNextPage endCursor } }
}`;
const GET_DELIVERY = `query WebhookDelivery($id: ID!) { webhookDelivery(id: $id) { ${DELIVERY_SELECTION} } }`;
const REDELIVER = `mutation RedeliverWebhook($id: ID!) { redeliverWebhook(id: $id) { ${DELIVERY_SELECTION} } }`;
const EVENT_TYPES = `query WebhookEventTypes { webhookEventTypes }`;

export interface GqlEndpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: string;
  mode: "TEST" | "LIVE";
  taskId: string | null;
  signatureScheme: "STANDARD" | "LEGACY";
  secretFingerprint: string;
  previousSecretFingerprint: string | null;
  previousSecretExpiresAt: string | null;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

interface GqlDeliverySummary {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  taskId: string | null;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptDueAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface GqlDelivery extends GqlDeliverySummary {
  payload: string;
  attemptLog: Array<{ attempt: number; startedAt: string; durationMs: number; statusCode: number | null; succeeded: boolean; error: string | null; responseExcerpt: string | null }>;
}

export function presentEndpoint(endpoint: GqlEndpoint) {
  return {
    endpoint_id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.eventTypes,
    status: endpoint.status,
    mode: restMode(endpoint.mode),
    task_id: endpoint.taskId,
    signature_scheme: endpoint.signatureScheme,
    secret_fingerprint: endpoint.secretFingerprint,
    previous_secret_fingerprint: endpoint.previousSecretFingerprint,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt,
    consecutive_failures: endpoint.consecutiveFailures,
    last_success_at: endpoint.lastSuccessAt,
    last_failure_at: endpoint.lastFailureAt,
    disabled_at: endpoint.disabledAt,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

function presentDeliverySummary(delivery: GqlDeliverySummary) {
  return {
    delivery_id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    task_id: delivery.taskId,
    status: delivery.status,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    next_attempt_due_at: delivery.nextAttemptDueAt,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
    updated_at: delivery.updatedAt,
  };
}

function presentDelivery(delivery: GqlDelivery) {
  return {
    ...presentDeliverySummary(delivery),
    payload: delivery.payload,
    attempt_log: delivery.attemptLog.map((attempt) => ({
      attempt: attempt.attempt,
      started_at: attempt.startedAt,
      duration_ms: attempt.durationMs,
      status_code: attempt.statusCode,
      succeeded: attempt.succeeded,
      error: attempt.error,
      response_excerpt: attempt.responseExcerpt,
    })),
  };
}

const text = (schema: JsonSchema = {}) => nullable({ type: "string", ...schema });
const count = { type: "integer", minimum: 0 };

const ENDPOINT_PROPERTIES: Record<string, JsonSchema> = {
  endpoint_id: { type: "string", format: "uuid" },
  url: { type: "string" },
  description: text(),
  event_types: { type: "array", items: { type: "string" }, description: "task.status_changed means every task transition" },
  status: { type: "string", enum: ["ACTIVE", "DISABLED"] },
  mode: ref("Mode"),
  task_id: { ...text({ format: "uuid" }), description: "Set for a task's own callback_url: only that task's events come here" },
  signature_scheme: {
    type: "string",
    enum: ["STANDARD", "LEGACY"],
    description: "STANDARD: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). LEGACY (deprecated, endpoints from before): HumanOps-Signature; rotating the secret moves an endpoint to STANDARD",
  },
  secret_fingerprint: { type: "string", description: "12 hex digits of SHA-256(secret): tells secrets apart without revealing them" },
  previous_secret_fingerprint: { ...text(), description: "After a rotation: the replaced secret's fingerprint while it still signs deliveries" },
  previous_secret_expires_at: { ...nullable(dateTime), description: "After a rotation: until when the replaced secret also signs every delivery" },
  consecutive_failures: count,
  last_success_at: nullable(dateTime),
  last_failure_at: nullable(dateTime),
  disabled_at: nullable(dateTime),
  disabled_reason: text(),
  created_at: dateTime,
  updated_at: dateTime,
};

const DELIVERY_SUMMARY_PROPERTIES: Record<string, JsonSchema> = {
  delivery_id: { type: "string" },
  endpoint_id: { type: "string", format: "uuid" },
  event_id: { type: "string", description: "The webhook-id header: the same on every attempt, so receivers can de-duplicate" },
  event_type: { type: "string" },
  task_id: text(),
  status: { type: "string", enum: ["PENDING", "DELIVERED", "FAILED"] },
  attempts: count,
  last_status_code: nullable({ type: "integer" }),
  last_error: text(),
  next_attempt_due_at: nullable(dateTime),
  delivered_at: nullable(dateTime),
  created_at: dateTime,
  updated_at: dateTime,
};

const WEBHOOK_SCHEMAS: Record<string, JsonSchema> = {
  WebhookEndpoint: object(ENDPOINT_PROPERTIES, "A URL that receives signed task events"),
  WebhookEndpointCreated: object(
    { ...ENDPOINT_PROPERTIES, secret: { type: "string", description: "The signing secret (whsec_… for STANDARD endpoints). Shown once: store it now." } },
    "The new endpoint and its signing secret",
  ),
  WebhookEndpointSecretRotated: object(
    {
      ...ENDPOINT_PROPERTIES,
      secret: { type: "string", description: "The new signing secret (whsec_…). Shown once: store it now; the replaced one also signs until previous_secret_expires_at." },
    },
    "The endpoint, now STANDARD, and its new signing secret",
  ),
  WebhookEndpointList: object({ endpoints: { type: "array", items: ref("WebhookEndpoint") } }),
  WebhookEndpointDeleted: object({ endpoint_id: { type: "string", format: "uuid" }, deleted: { const: true } }),
  WebhookDeliverySummary: object(DELIVERY_SUMMARY_PROPERTIES, "One event sent (or being sent) to one endpoint"),
  WebhookDelivery: object(
    {
      ...DELIVERY_SUMMARY_PROPERTIES,
      payload: { type: "string", description: "The exact JSON body that is signed and sent" },
      attempt_log: {
        type: "array",
        description: "Every HTTP attempt, oldest first",
        items: object({
          attempt: { type: "integer", minimum: 1 },
          started_at: dateTime,
          duration_ms: count,
          status_code: nullable({ type: "integer" }),
          succeeded: { type: "boolean" },
          error: text(),
          response_excerpt: { ...text(), description: "At most the first 512 bytes of the response body" },
        }),
      },
    },
    "A delivery with its payload and every attempt",
  ),
  WebhookDeliveryList: object({
    deliveries: { type: "array", items: ref("WebhookDeliverySummary") },
    pagination: object({
      limit: { type: "integer" },
      has_more: { type: "boolean" },
      next_cursor: { ...text(), description: "Pass as `after` for the next page" },
    }),
  }),
  WebhookEventTypes: object({ event_types: { type: "array", items: { type: "string" } } }),
};

const DELIVERY_PARAMETERS: Parameter[] = [
  { name: "endpoint_id", in: "query", description: "Only deliveries to this endpoint", schema: { type: "string" } },
  { name: "task_id", in: "query", description: "Only deliveries about this task", schema: { type: "string" } },
  { name: "status", in: "query", description: "Only deliveries in this status", schema: { type: "string", enum: ["PENDING", "DELIVERED", "FAILED"] } },
  { name: "limit", in: "query", description: "Page size, 1 to 100", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
  { name: "after", in: "query", description: "pagination.next_cursor of the previous page", schema: { type: "string" } },
];

const endpointResponse = (status: string, description: string) => ({ [status]: jsonResponse(description, ref("WebhookEndpoint")) });
const deliveryResponse = (status: string, description: string) => ({ [status]: jsonResponse(description, ref("WebhookDelivery")) });

export function webhooksResource(graphql: GraphQLRunner): RestResource {
  const createEndpoint = graphql.operation<{ createWebhookEndpoint: { secret: string; endpoint: GqlEndpoint } }>(CREATE_ENDPOINT);
  const listEndpoints = graphql.operation<{ webhookEndpoints: GqlEndpoint[] }>(LIST_ENDPOINTS);
  const getEndpoint = graphql.operation<{ webhookEndpoint: GqlEndpoint }>(GET_ENDPOINT);
  const updateEndpoint = graphql.operation<{ updateWebhookEndpoint: GqlEndpoint }>(UPDATE_ENDPOINT);
  const rotateSecret = graphql.operation<{ rotateWebhookEndpointSecret: { secret: string; endpoint: GqlEndpoint } }>(ROTATE_SECRET);
  const deleteEndpoint = graphql.operation<{ deleteWebhookEndpoint: string }>(DELETE_ENDPOINT);
  const listDeliveries = graphql.operation<{ webhookDeliveries: { nodes: GqlDeliverySummary[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
    LIST_DELIVERIES,
  );
  const getDelivery = graphql.operation<{ webhookDelivery: GqlDelivery }>(GET_DELIVERY);
  const redeliver = graphql.operation<{ redeliverWebhook: GqlDelivery }>(REDELIVER);
  const eventTypes = graphql.operation<{ webhookEventTypes: string[] }>(EVENT_TYPES);
  const tags = ["Webhooks"];
  return {
    inputs: {
      CreateWebhookEndpointRequest: { graphqlType: "CreateWebhookEndpointInput", omit: ["idempotencyKey"] },
      UpdateWebhookEndpointRequest: { graphqlType: "UpdateWebhookEndpointInput" },
      RotateWebhookEndpointSecretRequest: { graphqlType: "RotateWebhookEndpointSecretInput" },
    },
    schemas: WEBHOOK_SCHEMAS,
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
          const { createWebhookEndpoint: created } = await createEndpoint(ctx, { input: { ...(camelizeKeys(body) as object), idempotencyKey } });
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
          const { webhookEndpoints } = await listEndpoints(ctx);
          return { status: 200, body: { endpoints: webhookEndpoints.map(presentEndpoint) } };
        },
      },
      {
        method: "get",
        path: "/webhooks/endpoints/{id}",
        operation: { operationId: "getWebhookEndpoint", summary: "One endpoint", tags, responses: { ...endpointResponse("200", "The endpoint"), ...errors(403, 404) } },
        async handle({ ctx, params }) {
          const { webhookEndpoint } = await getEndpoint(ctx, { id: params.id });
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
          const { updateWebhookEndpoint } = await updateEndpoint(ctx, { id: params.id, input: camelizeKeys(body) });
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
          const { rotateWebhookEndpointSecret: rotated } = await rotateSecret(ctx, { id: params.id, input: camelizeKeys(body ?? {}) });
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
          const { deleteWebhookEndpoint } = await deleteEndpoint(ctx, { id: params.id });
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
          const { webhookDeliveries: page } = await listDeliveries(ctx, { filter, first: query.limit, after: query.after });
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
          const { webhookDelivery } = await getDelivery(ctx, { id: params.id });
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
          const { redeliverWebhook } = await redeliver(ctx, { id: params.id });
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
          const { webhookEventTypes } = await eventTypes(ctx);
          return { status: 200, body: { event_types: webhookEventTypes } };
        },
      },
    ],
  };
}
