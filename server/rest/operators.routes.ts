import type { Config } from "../config";
import { TaskType } from "../tasks/task.enums";
import { LIMITS } from "../tasks/task.validation";
import type { GraphQLRunner } from "./graphql.executor";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { errors, jsonResponse, ref, type MultipartBody } from "./rest.route";
import { TaskStatus } from "../tasks/task.enums";
import { KycView } from "../operators/operator.entity";
import { presentAvailableTask, presentTask, presentTaskSummary, TASK_SELECTION, TASK_SUMMARY_SELECTION, type GqlOperatorTask, type GqlTaskSummary } from "./task.presenter";

const REGISTER_OPERATOR = `mutation RegisterOperator($input: RegisterOperatorInput!) {
  registerOperator(input: $input) { testApiKey liveApiKey operator { id name payoutAddress kycStatus createdAt } }
}`;
const AVAILABLE_TASKS = `query AvailableTasks($near: GeoPointInput!, $radiusKm: Float!, $taskType: TaskType, $first: Int!) {
  availableTasks(near: $near, radiusKm: $radiusKm, taskType: $taskType, first: $first) { distanceKm task { ${TASK_SUMMARY_SELECTION} } }
}`;
const START_KYC = `mutation StartKyc { startKyc { applicantId accessToken expiresAt levelName kycStatus } }`;
const ACCEPT_TASK = `mutation AcceptTask($id: ID!) { acceptTask(id: $id) { ${TASK_SELECTION} } }`;
const SUBMIT_PROOF = `mutation SubmitProof($taskId: ID!, $input: SubmitProofInput!) { submitProof(taskId: $taskId, input: $input) { ${TASK_SELECTION} } }`;
const MY_TASKS = `query MyTasks($filter: TaskFilter, $first: Int!, $after: String) {
  myTasks(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${TASK_SUMMARY_SELECTION} } }
}`;
const RELEASE_TASK = `mutation ReleaseTask($id: ID!, $reason: String) { releaseTask(id: $id, reason: $reason) { ${TASK_SELECTION} } }`;
const MAX_PAGE = 100;

interface RegisterOperatorData {
  registerOperator: {
    testApiKey: string;
    liveApiKey: string;
    operator: { id: string; name: string; payoutAddress: string; kycStatus: string; createdAt: string };
  };
}

/** A UTF-8 character takes at most 4 bytes. */
const NOTES_BYTES = LIMITS.notesChars * 4;

interface StartKycData {
  startKyc: { applicantId: string; accessToken: string; expiresAt: string; levelName: string; kycStatus: string };
}

/** The operator's routes: register, verify identity (live), find open tasks nearby, accept one, upload photo proof. */
export function operatorsResource(graphql: GraphQLRunner, config: Config): RestResource {
  const registerOperator = graphql.operation<RegisterOperatorData>(REGISTER_OPERATOR);
  const availableTasks = graphql.operation<{ availableTasks: Array<{ distanceKm: number; task: GqlTaskSummary<null> }> }>(AVAILABLE_TASKS);
  const startKyc = graphql.operation<StartKycData>(START_KYC);
  const acceptTask = graphql.operation<{ acceptTask: GqlOperatorTask }>(ACCEPT_TASK);
  const submitProof = graphql.operation<{ submitProof: GqlOperatorTask }>(SUBMIT_PROOF);
  const myTasks = graphql.operation<{ myTasks: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: GqlTaskSummary<null>[] } }>(MY_TASKS);
  const releaseTask = graphql.operation<{ releaseTask: GqlOperatorTask }>(RELEASE_TASK);
  return {
    inputs: { RegisterOperatorRequest: { graphqlType: "RegisterOperatorInput" } },
    schemas: {
      OperatorRegistration: {
        type: "object",
        additionalProperties: false,
        required: ["operator_id", "name", "payout_address", "kyc_status", "test_kyc_status", "test_api_key", "live_api_key", "created_at"],
        properties: {
          operator_id: { type: "string", format: "uuid" },
          name: { type: "string" },
          payout_address: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "EIP-55 checksummed Base address the operator is paid to" },
          kyc_status: { type: "string", enum: ["PENDING", "APPROVED", "REJECTED"], description: "Identity verification for live tasks (the live key): accepting them needs APPROVED" },
          test_kyc_status: { const: KycView.NOT_REQUIRED, description: "Test tasks (the test key) need no identity verification" },
          test_api_key: { type: "string", pattern: "^ho_test_", description: "For test tasks. Shown once." },
          live_api_key: { type: "string", pattern: "^ho_live_", description: "For live tasks. Shown once." },
          created_at: { type: "string", format: "date-time" },
        },
      },
      KycSession: {
        type: "object",
        additionalProperties: false,
        required: ["applicant_id", "access_token", "expires_at", "level_name", "kyc_status"],
        properties: {
          applicant_id: { type: "string", description: "The operator's Sumsub applicant (one per operator)" },
          access_token: { type: "string", description: "Opens Sumsub's WebSDK for this applicant; a fresh one on every call" },
          expires_at: { type: "string", format: "date-time" },
          level_name: { type: "string", description: "The Sumsub verification level" },
          kyc_status: { type: "string", enum: ["PENDING", "APPROVED", "REJECTED"] },
        },
      },
      OperatorTaskList: {
        type: "object",
        additionalProperties: false,
        required: ["tasks", "pagination"],
        properties: {
          tasks: { type: "array", items: ref("TaskSummary"), description: "Newest first; fee_usd and total_usd are null (an operator sees its reward only)" },
          pagination: {
            type: "object",
            additionalProperties: false,
            required: ["limit", "total", "has_more", "next_cursor"],
            properties: {
              limit: { type: "integer" },
              total: { type: "integer", description: "The operator's tasks matching the filter, over all pages" },
              has_more: { type: "boolean" },
              next_cursor: { type: ["string", "null"], description: "Pass as `after` for the next page" },
            },
          },
        },
      },
      ReleaseTaskRequest: {
        type: "object",
        additionalProperties: false,
        properties: { reason: { type: ["string", "null"], maxLength: 1000, description: "Why, for the task's events (no personal data)" } },
      },
      AvailableTaskList: { type: "object", additionalProperties: false, required: ["tasks"], properties: { tasks: { type: "array", items: ref("AvailableTask") } } },
      ProofUpload: {
        type: "object",
        required: ["photos"],
        properties: {
          photos: {
            type: "array",
            items: { type: "string", format: "binary" },
            minItems: 1,
            maxItems: config.limits.photosPerProof,
            description: `JPEG, PNG or WebP photos (HEIC and other types are 415), each at most ${config.limits.photoBytes} bytes, together at most ${config.photos.decodeBudgetMegapixels} megapixels; repeat the "photos" part once per photo`,
          },
          notes: { type: "string", maxLength: LIMITS.notesChars, description: "What the photos show, where the package was left, ..." },
        },
      },
    },
    routes: [
      {
        method: "post",
        path: "/operators/register",
        operation: {
          operationId: "registerOperator",
          summary: "Register an operator with a Base payout address",
          description: "Needs no key. Returns a test key and a live key, each shown once; accepting live tasks needs approved KYC.",
          tags: ["Operators"],
          security: [],
          requestBody: { required: true, content: { "application/json": { schema: ref("RegisterOperatorRequest") } } },
          responses: { "201": jsonResponse("The operator and its API keys (shown once)", ref("OperatorRegistration")) },
        },
        async handle({ ctx, body }) {
          const { registerOperator: result } = await registerOperator(ctx, { input: camelizeKeys(body) });
          const { operator } = result;
          return {
            status: 201,
            body: {
              operator_id: operator.id,
              name: operator.name,
              payout_address: operator.payoutAddress,
              kyc_status: operator.kycStatus,
              test_kyc_status: KycView.NOT_REQUIRED,
              test_api_key: result.testApiKey,
              live_api_key: result.liveApiKey,
              created_at: operator.createdAt,
            },
          };
        },
      },
      {
        method: "post",
        path: "/operators/kyc",
        operation: {
          operationId: "startKyc",
          summary: "Start or resume identity verification (KYC) with Sumsub",
          description:
            "Live key only (test tasks need no KYC: 403). Creates the operator's Sumsub applicant once and returns a fresh WebSDK access token; Sumsub's review then sets kyc_status (APPROVED lets the operator accept live tasks).",
          tags: ["Operators"],
          requestBody: { required: false, content: { "application/json": { schema: { type: "object", additionalProperties: false, properties: {} } } } },
          responses: { "200": jsonResponse("The applicant and a WebSDK access token", ref("KycSession")), ...errors(403) },
        },
        async handle({ ctx }) {
          const { startKyc: session } = await startKyc(ctx, {});
          return {
            status: 200,
            body: {
              applicant_id: session.applicantId,
              access_token: session.accessToken,
              expires_at: session.expiresAt,
              level_name: session.levelName,
              kyc_status: session.kycStatus,
            },
          };
        },
      },
      {
        method: "get",
        path: "/operators/tasks/available",
        fieldAliases: { "near.lat": "lat", "near.lng": "lng", first: "limit" },
        operation: {
          operationId: "listAvailableTasks",
          summary: "Open tasks of the key's mode near a point, nearest first",
          tags: ["Operators"],
          parameters: [
            { name: "lat", in: "query", required: true, description: "Latitude, -90 to 90", schema: { type: "number" } },
            { name: "lng", in: "query", required: true, description: "Longitude, -180 to 180", schema: { type: "number" } },
            { name: "radius_km", in: "query", description: "Search radius in km, at most 500", schema: { type: "number", default: 10 } },
            { name: "task_type", in: "query", description: "Only tasks of this type", schema: { type: "string", enum: Object.values(TaskType) } },
            { name: "limit", in: "query", description: "At most this many, 1 to 100", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
          ],
          responses: { "200": jsonResponse("Open tasks, nearest first", ref("AvailableTaskList")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const variables = { near: { lat: query.lat, lng: query.lng }, radiusKm: query.radius_km, taskType: query.task_type, first: query.limit };
          const { availableTasks: found } = await availableTasks(ctx, variables);
          return { status: 200, body: { tasks: found.map(presentAvailableTask) } };
        },
      },
      {
        method: "get",
        path: "/operators/tasks",
        fieldAliases: { first: "limit" },
        operation: {
          operationId: "listMyTasks",
          summary: "The tasks this operator holds or held (accepted, submitted, paid, ...), newest first",
          description: "A released task is no longer the operator's. Page with `after` = the previous page's `pagination.next_cursor`.",
          tags: ["Operators"],
          parameters: [
            { name: "status", in: "query", description: "Only tasks in this status", schema: { type: "string", enum: Object.values(TaskStatus) } },
            { name: "task_type", in: "query", description: "Only tasks of this type", schema: { type: "string", enum: Object.values(TaskType) } },
            { name: "limit", in: "query", description: `Page size, 1 to ${MAX_PAGE}`, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE, default: 20 } },
            { name: "after", in: "query", description: "The cursor of the previous page (pagination.next_cursor)", schema: { type: "string" } },
          ],
          responses: { "200": jsonResponse("A page of the operator's tasks", ref("OperatorTaskList")), ...errors(403) },
        },
        async handle({ ctx, query }) {
          const filter = { status: query.status, taskType: query.task_type };
          const { myTasks: page } = await myTasks(ctx, { filter, first: query.limit, after: query.after });
          return {
            status: 200,
            body: {
              tasks: page.nodes.map(presentTaskSummary),
              pagination: { limit: query.limit, total: page.totalCount, has_more: page.pageInfo.hasNextPage, next_cursor: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null },
            },
          };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/release",
        operation: {
          operationId: "releaseTask",
          summary: "Give up an ACCEPTED task this operator holds",
          description: "The task is POSTED again for others to take and its escrow stays funded; the release is counted on the operator's record. Only an ACCEPTED task can be released (409).",
          tags: ["Operators"],
          requestBody: { required: false, content: { "application/json": { schema: ref("ReleaseTaskRequest") } } },
          responses: { "200": jsonResponse("The task, POSTED again", ref("Task")), ...errors(403, 404) },
        },
        async handle({ ctx, params, body }) {
          const { releaseTask: task } = await releaseTask(ctx, { id: params.id, reason: body?.reason });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/accept",
        operation: {
          operationId: "acceptTask",
          summary: "Claim an open task",
          description: "Exactly one operator wins a race; the others get 409. Live tasks need approved KYC (403).",
          tags: ["Operators"],
          requestBody: { required: false, content: { "application/json": { schema: { type: "object", additionalProperties: false, properties: {} } } } },
          responses: { "200": jsonResponse("The task, ACCEPTED by this operator", ref("Task")), ...errors(403, 404, 410) },
        },
        async handle({ ctx, params }) {
          const { acceptTask: task } = await acceptTask(ctx, { id: params.id });
          return { status: 200, body: presentTask(task) };
        },
      },
      {
        method: "post",
        path: "/tasks/{id}/proof",
        multipart: { fileField: "photos", fileBytes: config.limits.photoBytes, files: config.limits.photosPerProof, fields: ["notes"], fieldBytes: NOTES_BYTES },
        operation: {
          operationId: "submitProof",
          summary: "Upload photo proof for a task this operator holds",
          description: "multipart/form-data with one or more `photos` parts and an optional `notes` field. The AI Guardian scores the proof right after.",
          tags: ["Operators"],
          requestBody: { required: true, content: { "multipart/form-data": { schema: ref("ProofUpload") } } },
          responses: { "202": jsonResponse("Proof received: the task is SUBMITTED and the Guardian is scoring it", ref("Task")), ...errors(403, 404, 410, 422) },
        },
        async handle({ ctx, params, body }) {
          const { fields, files } = body as MultipartBody;
          // The files reach the resolver as bytes, by name (PhotoInput.upload): no base64 round trip.
          const uploads = new Map(files.map((file, i) => [`photos.${i}`, file]));
          const photos = [...uploads.keys()].map((upload) => ({ upload }));
          const { submitProof: task } = await submitProof({ ...ctx, uploads }, { taskId: params.id, input: { photos, notes: fields.notes } });
          return { status: 202, body: presentTask(task) };
        },
      },
    ],
  };
}
