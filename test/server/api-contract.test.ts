import { expect } from "chai";
import { z } from "zod";
import { createSchema } from "../../server/graphql/schema";
import { createOperationRunner } from "../../server/graphql/runner";
import { createLogger } from "../../server/common/logger";
import { registeredDocuments, type GraphQLDocument } from "../../server/api/document";
import { TaskSchema, TaskSummarySchema, projection, presentTask } from "../../server/api/task";
import { componentSchemas } from "../../server/api/json-schema";

describe("the public API contract (server/api)", () => {
  it("every REST and MCP document fits the GraphQL schema, and one that does not stops the start, named", async () => {
    const schema = await createSchema();
    const log = createLogger("silent");
    expect(registeredDocuments().length).to.be.greaterThan(30);
    expect(() => createOperationRunner(schema, log)).not.to.throw();

    const stale: GraphQLDocument<unknown, unknown> = { name: "StaleTask", source: "query StaleTask($id: ID!) { task(id: $id) { id rewardUsd } }" };
    const broken: GraphQLDocument<unknown, unknown> = { name: "Broken", source: "query Broken { task(" };
    expect(() => createOperationRunner(schema, log, [...registeredDocuments(), stale, broken])).to.throw(
      /do not fit the GraphQL schema:\n {2}- StaleTask: Cannot query field "rewardUsd" on type "Task"[^\n]*\n {2}- Broken: Syntax Error/,
    );
  });

  it("an MCP view may only name fields its resource has", () => {
    expect(() => projection(TaskSummarySchema, { task_id: z.string(), taskId: z.string() })).to.throw(/fields its resource does not have: taskId/);
  });

  it("the REST task schema accepts what the presenter makes of a task, and the OpenAPI components come from it", () => {
    const task = presentTask({
      id: "7c2a4e0e-5b8f-4c3e-9a51-2f1d0b7c6a10",
      status: "ACCEPTED",
      mode: "TEST",
      title: "Photo of storefront",
      description: "Front and signage",
      taskType: "PHOTO",
      deadline: "2026-12-09T18:00:00.000Z",
      proofRequirements: [],
      attempts: 0,
      maxAttempts: 3,
      acceptWindowMinutes: 120,
      reservedUntil: "2026-12-02T12:00:00.000Z",
      testScenario: null,
      createdAt: "2026-12-02T10:00:00.000Z",
      updatedAt: "2026-12-02T10:00:00.000Z",
      minCompletedTasks: 2,
      minRating: 4.5,
      location: { lat: 52.52, lng: 13.405, address: null },
      reward: { usd: "15.00" },
      fee: null,
      total: null,
      captureCode: "HX-4821",
      operator: {
        id: "0d6f0b1e-3c52-4c0a-8f44-6a3c1e2b9d77",
        record: {
          completedTasks: 3,
          firstAttemptApprovalRate: 0.6667,
          onTimeRate: 1,
          cancellationsAfterAccepting: 0,
          fraudCheckFailures: 0,
          reservationsLapsed: 0,
          averageRating: 4.5,
          ratingCount: 2,
        },
      },
      events: [],
      proofs: [],
      verification: null,
      escrow: null,
      ratings: [],
      reviewWindowMinutes: 60,
      releaseHeldUntil: null,
      dispute: { reason: "wrong building", status: "OPEN", decision: null, decisionNote: null, openedAt: "2026-12-02T11:00:00.000Z", decidedAt: null },
      x402Payment: { scheme: "exact", payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", transaction: `0x${"ab".repeat(32)}` },
      withdrawableWithoutPenalty: true,
      tips: [{ id: "5b1c3a0e-2d4f-4a6b-8c9d-0e1f2a3b4c5d", amount: { usd: "2.50" }, status: "PAID", txHash: `0x${"ab".repeat(32)}`, note: null, createdAt: "2026-12-02T11:00:00.000Z" }],
    });
    expect(TaskSchema.safeParse(task).success).to.equal(true);
    expect(TaskSchema.safeParse({ ...task, currency: "EUR" }).success).to.equal(false);
    const components = componentSchemas();
    expect(components.Task).to.include({ type: "object", additionalProperties: false });
    expect((components.Task as { properties: Record<string, unknown> }).properties.status).to.deep.equal({ $ref: "#/components/schemas/TaskStatus" });
    expect(components.Task).not.to.have.property("$schema");
  });
});
