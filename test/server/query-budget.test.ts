import { expect } from "chai";
import { getIntrospectionQuery } from "graphql";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient } from "../support/rest-client";
import { GET_TASK, POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";
import { QUERY_BUDGET } from "../../server/graphql/query-budget";
import { connect } from "../live/support/ws-client";

const HEAVY_PAGE = "tasks(first: 100) { nodes { id events { id kind reason createdAt } proofs { attempt photos { sha256 } } } }";

for (const db of testDatabases()) {
  describe(`GraphQL query budget: refused before anything runs, normal queries pass (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await registerAgent(server.client, "budget");
    });
    after(() => server.stop());

    const refused = async (query: string, apiKey = agent.apiKey) => {
      const res = await server.client.request(query, {}, apiKey);
      expect(res.status, JSON.stringify(res.errors)).to.equal(400);
      expect(res.data, "nothing ran").to.equal(undefined);
      expect(res.errors).to.have.length(1);
      expect(res.errors![0].extensions?.code).to.equal("QUERY_TOO_COMPLEX");
      return res.errors![0];
    };

    it("refuses many aliases of a heavy page, naming the budget", async () => {
      const aliases = Array.from({ length: 100 }, (_, i) => `t${i}: ${HEAVY_PAGE}`).join("\n");
      const error = await refused(`{ ${aliases} }`);
      expect(error.message).to.match(new RegExp(`uses 100 aliases, over the budget of ${QUERY_BUDGET.aliases}`));
      expect(error.extensions).to.deep.include({ details: { budget: QUERY_BUDGET.aliases, actual: 100 } });
    });

    it("refuses a query whose lists multiply past the cost budget, even without aliases", async () => {
      const error = await refused(`{ ${HEAVY_PAGE} }`);
      expect(error.message).to.match(new RegExp(`would cost (\\d+) points, over the budget of ${QUERY_BUDGET.cost}`));
      expect((error.extensions!.details as { actual: number }).actual).to.be.greaterThan(QUERY_BUDGET.cost);
      const fewAliases = Array.from({ length: 10 }, (_, i) => `t${i}: tasks(first: 100) { nodes { id events { id } } }`).join("\n");
      await refused(`{ ${fewAliases} }`);
    });

    it("costs a document sent again by its new variables where they set its cost: a page's size, an @include", async () => {
      const paged = `query($first: Int!) { ${HEAVY_PAGE.replace("tasks(first: 100)", "tasks(first: $first)")} }`;
      const included = `query($heavy: Boolean!) { small: tasks(first: 1) { totalCount } heavy: ${HEAVY_PAGE.replace("tasks(first: 100)", "tasks(first: 100) @include(if: $heavy)")} }`;
      for (const [query, cheap, dear] of [
        [paged, { first: 1 }, { first: 100 }],
        [included, { heavy: false }, { heavy: true }],
      ] as const) {
        // Accepted first (and so known to the direct path), then refused with the variables that make it dear, then accepted again.
        expect((await server.client.request(query, cheap, agent.apiKey)).status).to.equal(200);
        const res = await server.client.request(query, dear, agent.apiKey);
        expect(res.status).to.equal(400);
        expect(res.errors![0].extensions?.code).to.equal("QUERY_TOO_COMPLEX");
        expect((await server.client.request(query, cheap, agent.apiKey)).status).to.equal(200);
      }
    });

    it("counts a fragment where it is spread, so nested fragments cannot multiply fields unseen", async () => {
      const fragments = Array.from({ length: 20 }, (_, i) => `fragment F${i} on Agent { ...F${i + 1} ...F${i + 1} }`).join("\n");
      const error = await refused(`{ viewerAgent { ...F0 } }\n${fragments}\nfragment F20 on Agent { id }`);
      expect(error.message).to.match(new RegExp(`selects \\d+ fields, over the budget of ${QUERY_BUDGET.fields}`));
    });

    it("limits the fields of one selection set, which validation compares pairwise", async () => {
      const repeated = "tasks { totalCount } ".repeat(QUERY_BUDGET.fieldsPerSelection + 1);
      const error = await refused(`{ ${repeated} }`);
      expect(error.message).to.include(`selects ${QUERY_BUDGET.fieldsPerSelection + 1} fields in one selection set, over the budget of ${QUERY_BUDGET.fieldsPerSelection}`);
    });

    it("limits nesting depth and document size", async () => {
      const nested = (depth: number) => `{ __schema { types { ${"ofType { ".repeat(depth)}name${" }".repeat(depth)} } } }`;
      expect((await refused(nested(QUERY_BUDGET.depth))).message).to.match(/nests fields \d+ deep/);
      const huge = await server.client.request(`{ ${"__typename ".repeat(QUERY_BUDGET.tokens)} }`, {}, agent.apiKey);
      expect(huge.status).to.equal(400);
      expect(huge.errors![0].extensions?.code).to.equal("GRAPHQL_PARSE_FAILED");
      expect(huge.errors![0].message).to.match(new RegExp(`more tha[nt] ${QUERY_BUDGET.tokens} tokens`));
    });

    it("refuses mutations over budget before the first one runs", async () => {
      const posts = Array.from({ length: QUERY_BUDGET.aliases + 1 }, (_, i) => `p${i}: postTask(input: $input) { id }`).join("\n");
      const res = await server.client.request(`mutation($input: PostTaskInput!) { ${posts} }`, { input: taskInput() }, agent.apiKey);
      expect(res.errors![0].extensions?.code).to.equal("QUERY_TOO_COMPLEX");
      const listed = await server.client.ok(`{ tasks { totalCount } }`, {}, agent.apiKey);
      expect(listed.tasks.totalCount, "no task was posted").to.equal(0);
    });

    it("holds operations sent over the WebSocket to the same budget and text rules", async () => {
      const client = connect(server.url, { "x-api-key": agent.apiKey });
      try {
        const errorsOf = async (query: string, variables: Record<string, unknown> = {}) => {
          const result = await client.iterate({ query, variables }).next().then(
            (step) => step.value as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
            (errors: unknown) => ({ errors: errors as Array<{ message: string; extensions?: Record<string, unknown> }> }),
          );
          return result.errors ?? [];
        };
        const aliases = Array.from({ length: 40 }, (_, i) => `t${i}: ${HEAVY_PAGE}`).join("\n");
        expect((await errorsOf(`{ ${aliases} }`))[0].extensions?.code).to.equal("QUERY_TOO_COMPLEX");
        const nul = await errorsOf(POST_TASK, { input: taskInput({ title: "a\u0000" }) });
        expect(nul[0].extensions).to.include({ code: "BAD_USER_INPUT", field: "title" });
        expect(await errorsOf("{ viewerAgent { id } }")).to.deep.equal([]);
      } finally {
        await client.dispose();
      }
    });

    it("lets normal queries through: introspection, a task with its proofs, a page of 20 with events, REST's largest page", async () => {
      await server.client.ok(getIntrospectionQuery());
      const posted = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await server.client.ok(GET_TASK, { id: posted.postTask.id }, agent.apiKey);
      await server.client.ok(`{ tasks(first: 20) { nodes { id events { id kind reason createdAt } proofs { attempt notes photos { sha256 byteSize } } } } }`, {}, agent.apiKey);
      await server.client.ok(`{ viewerAgent { ledgerTransactions(first: 100) { nodes { id } } deposits(first: 100) { txHash } } webhookDeliveries(first: 100) { nodes { id attemptLog { statusCode } } } }`, {}, agent.apiKey);
      const operator = await registerOperator(server.client, "budget-operator");
      await server.client.ok(`{ availableTasks(near: { lat: 30.27, lng: -97.74 }, radiusKm: 10, first: 100) { distanceKm task { id title events { id } } } }`, {}, operator.testApiKey);
      const page = await rest.get("/tasks?limit=100", agent.apiKey);
      expect(page.status, JSON.stringify(page.body)).to.equal(200);
      expect((await rest.get(`/tasks/${posted.postTask.id}`, agent.apiKey)).status).to.equal(200);
    });
  });
}
