import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { postgresUrl, testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody, type RestResult } from "../support/rest-client";
import { REGISTER_AGENT, taskInput } from "../support/fixtures";
import { Task } from "../../server/tasks/task.entity";
import { Agent } from "../../server/agents/agent.entity";
import { ownedChain, type OwnedChain } from "../chain/support/chain";

const MCP_INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } } };

/** A POST as a client at `address` behind the load balancer would send it. */
function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(body) });
}
const from = (address: string) => ({ "x-forwarded-for": address });

const LOW_LIMITS = {
  RATE_LIMIT_TEST_PER_MINUTE: "3",
  RATE_LIMIT_LIVE_PER_MINUTE: "1000",
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: "6",
  RATE_LIMIT_REGISTRATIONS_PER_HOUR: "3",
  // The test clients play clients behind a load balancer on this machine, each named by X-Forwarded-For.
  TRUST_PROXY: "loopback",
};

const remaining = (res: RestResult) => Number(res.headers.get("X-RateLimit-Remaining"));
/** A key of the right shape that no account holds. */
const unknownKey = () => `ho_test_${randomBytes(32).toString("base64url")}`;

for (const db of testDatabases()) {
  describe(`rate limits per API key across REST, GraphQL and MCP (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;

    before(async () => {
      server = await startServer(db, LOW_LIMITS);
      rest = await RestClient.connect(server.url);
    });
    after(() => server.stop());

    it("answers 429 with Retry-After past a test key's limit, counting down in X-RateLimit-* headers", async () => {
      const agent = await rest.registerAgent("hasty");
      const other = await rest.registerAgent("patient");
      const answers: RestResult[] = [];
      for (let i = 0; i < 4; i++) answers.push(await rest.get("/agents/balance", agent.apiKey));
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 429]);
      expect(answers.map(remaining)).to.deep.equal([2, 1, 0, 0]);
      expect(answers.every((a) => a.headers.get("X-RateLimit-Limit") === "3")).to.equal(true);
      const refused = answers[3];
      expect(refused.body.error.code).to.equal("RATE_LIMITED");
      expect(Number(refused.headers.get("Retry-After"))).to.be.within(1, 60);
      // Whole seconds, rounded up.
      expect(Number(refused.headers.get("X-RateLimit-Reset")) * 1000).to.be.within(Date.now(), Date.now() + 61_000);
      expect((await rest.get("/agents/balance", other.apiKey)).status, "another key has its own budget").to.equal(200);
    });

    it("counts /graphql and /mcp against the same budget, each refusing in its own protocol's shape", async () => {
      const agent = await rest.registerAgent("everywhere");
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": agent.apiKey, ...headers }, body: JSON.stringify(body) });
      const query = () => post("/graphql", { query: "{ viewerAgent { id } }" });
      expect((await rest.get("/agents/balance", agent.apiKey)).status).to.equal(200);
      const answers = [await query(), await query(), await query()];
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 429]);
      expect(answers.map((a) => a.headers.get("X-RateLimit-Remaining"))).to.deep.equal(["1", "0", "0"]);
      const refused = (await answers[2].json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(refused.errors[0].extensions.code).to.equal("RATE_LIMITED");
      expect(refused.errors[0].message).to.match(/rate limit of 3 requests per minute exceeded; retry after \d+ s/);
      expect(Number(answers[2].headers.get("Retry-After"))).to.be.within(1, 60);

      const mcp = await post("/mcp", MCP_INITIALIZE, { accept: "application/json, text/event-stream" });
      expect(mcp.status).to.equal(429);
      expect(await mcp.json()).to.deep.include({ jsonrpc: "2.0", id: null });
      expect((await rest.get("/agents/balance", agent.apiKey)).status, "and REST is out of budget too").to.equal(429);
    });

    it("limits calls without a key per client address", async () => {
      const answers: RestResult[] = [];
      do answers.push(await rest.get("/openapi.json"));
      while (answers.at(-1)!.status === 200 && answers.length < 10);
      expect(answers.at(-1)!.status).to.equal(429);
      expect(answers.every((a) => a.headers.get("X-RateLimit-Limit") === "6")).to.equal(true);
      const counted = answers.slice(0, -1).map(remaining);
      expect(counted.at(-1), "refused only once the budget is spent").to.equal(0);
      counted.slice(1).forEach((left, i) => expect(left).to.equal(counted[i] - 1));
    });

    it("answers an unknown key 401 on every transport before any budget is touched, also for registerAgent", async () => {
      const key = unknownKey();
      const headers = { "x-api-key": key, ...from("203.0.113.1") };
      for (let i = 0; i < 5; i++) {
        const restAnswer = await rest.get("/agents/balance", key, from("203.0.113.1"));
        expect([restAnswer.status, restAnswer.body.error.code]).to.deep.equal([401, "UNAUTHENTICATED"]);
        expect(restAnswer.headers.get("X-RateLimit-Remaining"), "no budget was spent").to.equal(null);
      }
      const email = `oracle-${randomBytes(4).toString("hex")}@agents.test`;
      const graphql = await post(`${server.url}/graphql`, { query: REGISTER_AGENT, variables: { input: { name: "oracle", email } } }, headers);
      expect(graphql.status).to.equal(401);
      expect(graphql.headers.get("X-RateLimit-Remaining")).to.equal(null);
      const body = (await graphql.json()) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
      expect([body.data, body.errors[0].extensions.code]).to.deep.equal([undefined, "UNAUTHENTICATED"]);
      const mcp = await post(`${server.url}/mcp`, MCP_INITIALIZE, headers);
      expect(mcp.status).to.equal(401);
      expect(await mcp.json()).to.deep.include({ jsonrpc: "2.0", id: null });
      expect(await server.app.orm.em.fork().count(Agent, { email }), "the refused registration created nothing").to.equal(0);
      const keyless = await rest.get("/openapi.json", undefined, from("203.0.113.1"));
      expect(remaining(keyless), "the address's own budget is whole").to.equal(5);
    });

    it("counts every executed mutation of an aliased request: a key's posts and an address's registrations", async () => {
      const registered = await rest.request("POST", "/agents/register", { json: { name: "aliases", email: `aliases-${randomBytes(4).toString("hex")}@agents.test` }, headers: from("203.0.113.4") });
      const agent = { apiKey: registered.body.api_key as string, id: registered.body.agent_id as string };
      const posts = Array.from({ length: 5 }, (_, i) => `p${i}: postTask(input: $input) { id }`).join(" ");
      const answer = await post(`${server.url}/graphql`, { query: `mutation($input: PostTaskInput!) { ${posts} }`, variables: { input: taskInput() } }, { "x-api-key": agent.apiKey });
      const body = (await answer.json()) as { errors: Array<{ path: string[]; message: string; extensions: { code: string } }> };
      // The request is 1 point of 3; two posts fit in the rest. The third is refused and, as its result is
      // non-null, ends the (serial) execution of the mutation.
      expect(body.errors.map((e) => [e.path.join("."), e.extensions.code])).to.deep.equal([["p2", "RATE_LIMITED"]]);
      expect(body.errors[0].message).to.match(/rate limit of 3 requests per minute \(every mutation counts as one more\) exceeded/);
      expect(await server.app.orm.em.fork().count(Task, { agent: agent.id })).to.equal(2);
      expect((await rest.post("/tasks", restTaskBody(), agent.apiKey)).status, "REST shares the spent budget").to.equal(429);

      const registrations = Array.from({ length: 6 }, (_, i) => `r${i}: registerAgent(input: { name: "bulk", email: "bulk-${i}-${randomBytes(4).toString("hex")}@agents.test" }) { apiKey }`).join(" ");
      const bulk = await post(`${server.url}/graphql`, { query: `mutation { ${registrations} }` }, from("203.0.113.2"));
      const bulkBody = (await bulk.json()) as { errors: Array<{ path: string[]; message: string; extensions: { code: string } }> };
      expect(bulkBody.errors.map((e) => [e.path.join("."), e.extensions.code]), "3 accounts per address and hour").to.deep.equal([["r3", "RATE_LIMITED"]]);
      expect(await server.app.orm.em.fork().count(Agent, { name: "bulk" })).to.equal(3);
      expect(bulkBody.errors[0].message).to.match(/rate limit of 3 accounts per hour from one address exceeded/);
      const again = await rest.request("POST", "/agents/register", { json: { name: "more", email: `more-${randomBytes(4).toString("hex")}@agents.test` }, headers: from("203.0.113.2") });
      expect([again.status, again.body.error.code]).to.deep.equal([429, "RATE_LIMITED"]);
      const elsewhere = await rest.request("POST", "/agents/register", { json: { name: "other", email: `other-${randomBytes(4).toString("hex")}@agents.test` }, headers: from("203.0.113.3") });
      expect(elsewhere.status, "another client behind the balancer registers").to.equal(201);
    });

  });
}

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl && postgresUrl() ? describe : describe.skip)("rate limits shared by replicas through Redis (needs TEST_POSTGRES_URL and TEST_REDIS_URL)", () => {
  let replicas: TestServer[];
  let other: TestServer;
  let drop: () => Promise<void>;
  let chain: OwnedChain;

  before(async () => {
    const pg = testDatabases().find((db) => db.name === "postgresql")!;
    const shared = await pg.create();
    drop = shared.drop;
    // Two replicas of one deployment (one database, so one shared chain), and another deployment on the same Redis.
    chain = await ownedChain({ funderOwnsUsdc: true });
    const replicaEnv = { ...LOW_LIMITS, ...chain.env("TEST_CHAIN_"), REDIS_URL: redisUrl! };
    replicas = [await startServer({ database: shared.database }, replicaEnv)];
    replicas.push(await startServer({ database: shared.database }, replicaEnv));
    other = await startServer(pg, { ...LOW_LIMITS, REDIS_URL: redisUrl! });
  });
  after(async () => {
    await Promise.all([...replicas, other].map((server) => server.stop()));
    await drop();
    await chain.stop();
  });

  it("counts a key's and an address's requests on every replica against one budget, apart from another deployment's", async () => {
    const [a, b, elsewhere] = await Promise.all([...replicas, other].map((server) => RestClient.connect(server.url)));
    const agent = await a.registerAgent("replicated");
    const answers: RestResult[] = [];
    for (const client of [a, b, a, b]) answers.push(await client.get("/agents/balance", agent.apiKey));
    expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200, 429]);
    expect(answers.map(remaining)).to.deep.equal([2, 1, 0, 0]);

    const address = from("198.51.100.7");
    const keyless: RestResult[] = [];
    for (const client of [a, b, a]) keyless.push(await client.get("/openapi.json", undefined, address));
    expect(keyless.map(remaining)).to.deep.equal([5, 4, 3]);
    const apart = await elsewhere.get("/openapi.json", undefined, address);
    expect([apart.status, remaining(apart)], "another deployment on the same Redis keeps its own budget").to.deep.equal([200, 5]);
  });
});

describe("client addresses without TRUST_PROXY", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(testDatabases()[0], { ...LOW_LIMITS, TRUST_PROXY: "false" });
  });
  after(() => server.stop());

  it("ignores X-Forwarded-For, so a client cannot name itself a fresh address", async () => {
    const rest = await RestClient.connect(server.url);
    const answers: RestResult[] = [];
    for (let i = 0; i < 7; i++) answers.push(await rest.get("/openapi.json", undefined, from(`192.0.2.${i}`)));
    expect(answers.at(-1)!.status).to.equal(429);
  });
});
