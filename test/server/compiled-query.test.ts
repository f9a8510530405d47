import { expect } from "chai";
import { wrap } from "@mikro-orm/core";
import { execute, parse } from "graphql";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { generatePhoto } from "../../server/photos/photo.samples";
import { compiledQuery } from "../../server/graphql/compiled";
import { createOperationRunner } from "../../server/graphql/runner";
import { GetTask, ListTasks } from "../../server/api/documents";
import { DomainError } from "../../server/common/errors";
import { Task } from "../../server/tasks/task.entity";

const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
const photo = (seed: number) => ({ dataBase64: generatePhoto(seed).toString("base64"), contentType: "image/png" });

/** Photo URLs are signed anew on each read, valid until a second-granular expiry: compared without it. */
const unsigned = (data: unknown) => JSON.parse(JSON.stringify(data).replace(/&expires=\d+&signature=[0-9a-f]+/g, "&expires=E&signature=S")) as unknown;

/**
 * The compiled executor (server/graphql/compiled.ts) answers a read with the
 * same data as graphql-js's execute, field by field, for every caller the
 * resolvers tell apart: the task's agent, the operator holding it, an
 * operator looking at an open task; and answers nothing (so graphql-js
 * words the refusal) where the resolvers refuse: another agent, another
 * operator.
 */
for (const db of testDatabases()) {
  describe(`compiled queries answer as graphql-js executes (${db.name})`, () => {
    let server: TestServer;
    let alice: { apiKey: string; id: string };
    let bob: { apiKey: string; id: string };
    let holder: { testApiKey: string; id: string };
    let other: { testApiKey: string; id: string };
    let held: string;
    let paid: string;
    let open: string;

    before(async () => {
      server = await startServer(db);
      alice = await registerAgent(server.client, "alice");
      bob = await registerAgent(server.client, "bob");
      holder = await registerOperator(server.client, "holder");
      other = await registerOperator(server.client, "other");
      // Held by a real operator, with proof (photos, verification) in MANUAL_REVIEW: the capture code, proofs and fees differ by caller.
      held = (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", proofRequirements: ["1 photo"] }) }, alice.apiKey)).postTask.id;
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: held }, holder.testApiKey);
      await server.client.ok(SUBMIT, { id: held, input: { photos: [photo(1), photo(2)], notes: "n" } }, holder.testApiKey);
      // Walked to PAID by the mock operator: a released escrow, its operator's record, events of the whole life.
      paid = (await server.client.ok(POST_TASK, { input: taskInput() }, alice.apiKey)).postTask.id;
      open = (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, alice.apiKey)).postTask.id;
      await waitForStatus(server.client, alice.apiKey, paid, ["PAID"], 30_000);
      await waitForStatus(server.client, alice.apiKey, held, ["MANUAL_REVIEW", "VERIFIED", "REJECTED", "PAID"], 30_000);
      await server.app.escrow.idle();
    });
    after(() => server?.stop());

    const contextOf = (apiKey: string) => server.app.createContext(apiKey, "127.0.0.1");
    /** [API key, task id] reads that answer: the agent's own tasks, the operator holding one, an operator looking at an open task. */
    const allowedReads = (): Array<[string, string]> => [
      [alice.apiKey, held],
      [alice.apiKey, paid],
      [alice.apiKey, open],
      [holder.testApiKey, held],
      [other.testApiKey, open],
    ];
    /** Reads a resolver refuses: another agent's task, a task another operator holds or held. */
    const refusedReads = (): Array<[string, string]> => [
      [bob.apiKey, held],
      [other.testApiKey, held],
      [other.testApiKey, paid],
    ];

    async function both(source: string, operationName: string, apiKey: string, variables: Record<string, unknown>) {
      const document = parse(source);
      const compiled = compiledQuery(server.app.schema, document, operationName);
      expect(compiled, `${operationName} compiles`).to.not.equal(undefined);
      // Each with its own request (EntityManager, parts read): neither sees what the other read.
      const fast = await compiled!.run(await contextOf(apiKey), variables).then(
        (data) => ({ data }),
        (err: unknown) => ({ failed: err }),
      );
      const slow = await execute({ schema: server.app.schema, document, operationName, variableValues: variables, contextValue: await contextOf(apiKey) });
      return { fast, slow };
    }

    it("a full read (REST's and MCP's GetTask) answers the same data for its agent, the operator holding it and an operator looking at an open task", async () => {
      for (const [apiKey, id] of allowedReads()) {
        const { fast, slow } = await both(GetTask.source, "GetTask", apiKey, { id });
        expect(slow.errors, `${id}`).to.equal(undefined);
        expect("data" in fast, `${id}: ${String((fast as { failed?: unknown }).failed)}`).to.equal(true);
        expect(unsigned((fast as { data: unknown }).data), id).to.deep.equal(unsigned(slow.data));
      }
      // What differs by caller did differ: the holder sees its proof and code without the fee, the agent the fee.
      const asHolder = (await both(GetTask.source, "GetTask", holder.testApiKey, { id: held })).fast as { data: { task: any } };
      expect(asHolder.data.task.fee).to.equal(null);
      expect(asHolder.data.task.proofs).to.have.length(1);
      expect(asHolder.data.task.proofs[0].photos[0].url).to.be.a("string");
      expect(asHolder.data.task.captureCode).to.be.a("string");
      const asOther = (await both(GetTask.source, "GetTask", other.testApiKey, { id: open })).fast as { data: { task: any } };
      expect(asOther.data.task.fee).to.equal(null);
      const asAgent = (await both(GetTask.source, "GetTask", alice.apiKey, { id: paid })).fast as { data: { task: any } };
      expect(asAgent.data.task.fee.usd).to.be.a("string");
      expect(asAgent.data.task.operator.record.completedTasks).to.be.greaterThan(0);
      expect(asAgent.data.task.escrow.status).to.equal("RELEASED");
    });

    it("answers nothing where a resolver refuses (another agent, another operator), and the runner then gives graphql-js's NOT_FOUND", async () => {
      const runner = createOperationRunner(server.app.schema, server.app.log);
      for (const [apiKey, id] of refusedReads()) {
        const { fast, slow } = await both(GetTask.source, "GetTask", apiKey, { id });
        expect("failed" in fast, id).to.equal(true);
        expect(slow.data, id).to.equal(null);
        expect(slow.errors?.[0].extensions.code ?? (slow.errors?.[0].originalError as DomainError | undefined)?.code).to.equal("NOT_FOUND");
        const refused = await runner.run(GetTask, await contextOf(apiKey), { id }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(refused).to.be.instanceOf(DomainError);
        expect((refused as DomainError).code).to.equal("NOT_FOUND");
      }
    });

    it("a list with variables and a document with fragments and aliases answer the same data; a bad variable answers nothing", async () => {
      const list = await both(ListTasks.source, "ListTasks", alice.apiKey, { first: 2, offset: 1, filter: { status: null, taskType: null } });
      expect(list.slow.errors).to.equal(undefined);
      expect(unsigned((list.fast as { data: unknown }).data)).to.deep.equal(unsigned(list.slow.data));
      const aliased = `query Mine($id: ID!) { a: task(id: $id) { ...F id t: __typename } b: task(id: $id) { status reward { usd } } __typename }
        fragment F on Task { status title events { kind toStatus } }`;
      const { fast, slow } = await both(aliased, "Mine", alice.apiKey, { id: paid });
      expect(slow.errors).to.equal(undefined);
      expect((fast as { data: unknown }).data).to.deep.equal(slow.data);
      const bad = await both(ListTasks.source, "ListTasks", alice.apiKey, { first: "many" });
      expect("failed" in bad.fast).to.equal(true);
      expect(bad.slow.errors?.[0].message).to.match(/first/);
    });

    it("the lean reads (the task as an unmanaged copy; a full read's parts in one statement) answer what the ORM's own reads answer inside a transaction: the agent, the operator holding it, an operator on an open task, and strangers refused alike", async () => {
      const { schema } = server.app;
      // Every field of Task that is not one of its parts, and GetTask: REST's and MCP's full read, with its parts.
      const alone = parse(`query Read($id: ID!) { task(id: $id) {
        id status mode title description taskType deadline proofRequirements attempts maxAttempts acceptWindowMinutes reservedUntil testScenario createdAt updatedAt
        minCompletedTasks minRating location { lat lng address } reward { usd } fee { usd } total { usd } reviewWindowMinutes releaseHeldUntil captureCode
        operator { id } x402Payment { scheme payer transaction } withdrawableWithoutPenalty agentRecord { tasksPaid ratingCount } lastMessage { id text }
      } }`);
      const documents: Array<[string, ReturnType<typeof parse>]> = [
        ["Read", alone],
        ["GetTask", parse(GetTask.source)],
      ];
      const reads = [...allowedReads(), ...refusedReads()];
      let found = 0;
      for (const [operationName, document] of documents) {
        for (const [apiKey, id] of reads) {
          const leanContext = await contextOf(apiKey);
          const lean = await execute({ schema, document, operationName, variableValues: { id }, contextValue: leanContext });
          // Read lean: the request's identity map holds no loaded task (the ORM would have put its entity there; the parts refer to it unloaded).
          const managed = leanContext.em.getUnitOfWork().getById<Task>(Task.name, id);
          expect(managed && wrap(managed).isInitialized(), id).to.not.equal(true);
          // Inside a transaction the service and the field resolvers read through the ORM, one query each: the reference.
          const ormContext = await contextOf(apiKey);
          const orm = await server.app.orm.em.fork().transactional((tx) => execute({ schema, document, operationName, variableValues: { id }, contextValue: { ...ormContext, em: tx } }));
          expect(unsigned(lean), `${operationName} ${id} (${apiKey.slice(0, 12)})`).to.deep.equal(unsigned(orm));
          if ((lean.data as { task?: unknown } | null | undefined)?.task) found++;
        }
      }
      expect(found).to.equal(10);
    });

    it("leaves to graphql-js what it does not compile: mutations, directives, introspection", () => {
      const { schema } = server.app;
      expect(compiledQuery(schema, parse(`mutation { registerAgent(input: {name: "x", email: "x@y.test"}) { apiKey } }`))).to.equal(undefined);
      expect(compiledQuery(schema, parse(`query($x: Boolean!) { task(id: "1") { id @include(if: $x) } }`))).to.equal(undefined);
      expect(compiledQuery(schema, parse(`{ __schema { queryType { name } } }`))).to.equal(undefined);
      expect(compiledQuery(schema, parse(`{ __typename }`))).to.not.equal(undefined);
    });
  });
}
