import type { Config } from "../config";
import type { RegisterOperatorInput } from "../api/operations.generated";
import { TaskStatus, TaskType } from "../api/enums";
import { LIMITS } from "../api/limits";
import { AcceptTask, AvailableTasks, MyTasks, RegisterOperator, ReleaseTask, StartKyc, SubmitProof } from "../api/documents";
import { presentKycSession, presentOperatorRegistration } from "../api/account";
import { presentAvailableTask, presentTask, presentTaskSummary } from "../api/task";
import type { OperationRunner } from "../graphql/runner";
import type { RestResource } from "./openapi";
import { camelizeKeys } from "./case";
import { errors, jsonResponse, ref, type MultipartBody } from "./rest.route";

const MAX_PAGE = 100;

/** A UTF-8 character takes at most 4 bytes. */
const NOTES_BYTES = LIMITS.notesChars * 4;

/** The operator's routes: register, verify identity (live), find open tasks nearby, accept one, upload photo proof. */
export function operatorsResource(graphql: OperationRunner, config: Config): RestResource {
  return {
    inputs: { RegisterOperatorRequest: { graphqlType: "RegisterOperatorInput" } },
    schemas: {
      ReleaseTaskRequest: {
        type: "object",
        additionalProperties: false,
        properties: { reason: { type: ["string", "null"], maxLength: 1000, description: "Why, for the task's events (no personal data)" } },
      },
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
          const { registerOperator } = await graphql.run(RegisterOperator, ctx, { input: camelizeKeys(body) as RegisterOperatorInput });
          return { status: 201, body: presentOperatorRegistration(registerOperator) };
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
          const { startKyc } = await graphql.run(StartKyc, ctx, {});
          return { status: 200, body: presentKycSession(startKyc) };
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
          const { availableTasks: found } = await graphql.run(AvailableTasks, ctx, variables);
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
          const { myTasks: page } = await graphql.run(MyTasks, ctx, { filter, first: query.limit, after: query.after });
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
          const { releaseTask: task } = await graphql.run(ReleaseTask, ctx, { id: params.id, reason: body?.reason });
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
          const { acceptTask: task } = await graphql.run(AcceptTask, ctx, { id: params.id });
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
          const { submitProof: task } = await graphql.run(SubmitProof, { ...ctx, uploads }, { taskId: params.id, input: { photos, notes: fields.notes } });
          return { status: 202, body: presentTask(task) };
        },
      },
    ],
  };
}
