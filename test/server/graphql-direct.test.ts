import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { GET_TASK, POST_TASK, registerAgent, taskInput } from "../support/fixtures";

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

/**
 * POST /graphql with a plain JSON body is answered before express (and, for
 * a document seen before, without Apollo's pipeline); a query string sends
 * the same request through express and Apollo. Both must answer alike.
 */
for (const db of testDatabases()) {
  describe(`POST /graphql answered directly and through express alike (${db.name})`, () => {
    let server: TestServer;
    let apiKey: string;
    let taskId: string;

    before(async () => {
      server = await startServer(db);
      ({ apiKey } = await registerAgent(server.client, "direct"));
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, apiKey);
      taskId = postTask.id;
    });
    after(async () => {
      await server?.stop();
    });

    async function send(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
      const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      const picked: Record<string, string | null> = {};
      for (const name of ["content-type", "cache-control", "x-ratelimit-limit", "retry-after", "set-cookie"]) picked[name] = res.headers.get(name);
      // Internal errors carry a fresh reference each time.
      return { status: res.status, headers: picked, body: (await res.text()).replace(/reference [0-9a-f-]{36}/g, "reference R").replace(/"reference":"[0-9a-f-]{36}"/g, '"reference":"R"') };
    }

    /** The answer from express, then the direct path twice (a new document, then a known one): all three equal. */
    async function expectAlike(body: string, headers: Record<string, string> = {}): Promise<Answer> {
      const viaExpress = await send("/graphql?via=express", body, headers);
      const first = await send("/graphql", body, headers);
      const known = await send("/graphql", body, headers);
      expect(first, "new document").to.deep.equal(viaExpress);
      expect(known, "known document").to.deep.equal(viaExpress);
      return known;
    }

    const json = (query: string, variables?: Record<string, unknown>, operationName?: string) => JSON.stringify({ query, variables, operationName });

    it("answers a read with custom scalars and an API key alike: same status, body, Content-Type and Cache-Control", async () => {
      const answer = await expectAlike(json(GET_TASK, { id: taskId }), { "x-api-key": apiKey });
      expect(answer.status).to.equal(200);
      expect(answer.headers["cache-control"]).to.equal("no-store");
      expect(answer.headers["x-ratelimit-limit"]).to.equal("100000");
      expect(JSON.parse(answer.body).data.task.id).to.equal(taskId);
      await expectAlike(json("{ __typename }"));
      await expectAlike(json("query A { __typename } query B { estimateCost(rewardUsd: \"1.50\") { total { usd } } }", undefined, "B"));
    });

    it("answers resolver errors, authorization refusals and a missing task alike, data beside errors", async () => {
      const missing = JSON.parse((await expectAlike(json(GET_TASK, { id: "00000000-0000-4000-8000-000000000000" }), { "x-api-key": apiKey })).body);
      expect(missing.errors[0].extensions.code).to.equal("NOT_FOUND");
      const anonymous = JSON.parse((await expectAlike(json(GET_TASK, { id: taskId }))).body);
      expect(anonymous.errors[0].extensions.code).to.equal("UNAUTHENTICATED");
    });

    it("answers refusals before execution alike: variables that do not fit, text with NUL, a page over the budget, unknown fields, bad JSON", async () => {
      expect((await expectAlike(json(GET_TASK, {}), { "x-api-key": apiKey })).status).to.equal(400);
      expect((await expectAlike(json(GET_TASK, { id: "a\u0000b" }), { "x-api-key": apiKey })).status).to.equal(400);
      const overBudget = `query($first: Int!) { tasks(first: $first) { nodes { ${"id title ".repeat(1)} events { id kind reason } } } }`;
      await expectAlike(json(overBudget, { first: 100 }), { "x-api-key": apiKey });
      await expectAlike(json(overBudget, { first: 1 }), { "x-api-key": apiKey });
      expect((await expectAlike(json("{ nope }"))).status).to.equal(400);
      expect((await expectAlike("{ not json")).status).to.equal(400);
      expect((await expectAlike('"a string"')).status).to.equal(400);
      expect((await expectAlike(json("{ __typename }"), { accept: "application/graphql-response+json" })).status).to.equal(200);
    });

    it("refuses a bad key alike, before anything runs", async () => {
      const answer = await expectAlike(json("{ __typename }"), { "x-api-key": "ho_test_nope" });
      expect(answer.status).to.equal(401);
    });
  });
}
