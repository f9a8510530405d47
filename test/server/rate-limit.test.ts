import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { postgresUrl, testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, type RestResult } from "../support/rest-client";
import { ownedChain, type OwnedChain } from "../chain/support/chain";

const LOW_LIMITS = { RATE_LIMIT_TEST_PER_MINUTE: "3", RATE_LIMIT_LIVE_PER_MINUTE: "1000", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "6" };

/** Windows are whole minutes: start a sequence of counted requests well inside one. */
async function freshWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 2_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const remaining = (res: RestResult) => Number(res.headers.get("X-RateLimit-Remaining"));
/** A key of the right shape that no account holds: counted like any other, answered 401. */
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
      await freshWindow();
      const answers: RestResult[] = [];
      for (let i = 0; i < 4; i++) answers.push(await rest.get("/agents/balance", agent.apiKey));
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 429]);
      expect(answers.map(remaining)).to.deep.equal([2, 1, 0, 0]);
      expect(answers.every((a) => a.headers.get("X-RateLimit-Limit") === "3")).to.equal(true);
      const refused = answers[3];
      expect(refused.body.error.code).to.equal("RATE_LIMITED");
      expect(Number(refused.headers.get("Retry-After"))).to.be.within(1, 60);
      expect(Number(refused.headers.get("X-RateLimit-Reset")) * 1000).to.be.within(Date.now(), Date.now() + 60_000);
      expect((await rest.get("/agents/balance", other.apiKey)).status, "another key has its own budget").to.equal(200);
    });

    it("counts /graphql and /mcp against the same budget, each refusing in its own protocol's shape", async () => {
      const agent = await rest.registerAgent("everywhere");
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": agent.apiKey, ...headers }, body: JSON.stringify(body) });
      const query = () => post("/graphql", { query: "{ viewerAgent { id } }" });
      await freshWindow();
      expect((await rest.get("/agents/balance", agent.apiKey)).status).to.equal(200);
      const answers = [await query(), await query(), await query()];
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 429]);
      expect(answers.map((a) => a.headers.get("X-RateLimit-Remaining"))).to.deep.equal(["1", "0", "0"]);
      const refused = (await answers[2].json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(refused.errors[0].extensions.code).to.equal("RATE_LIMITED");
      expect(refused.errors[0].message).to.match(/rate limit of 3 requests per minute exceeded; retry after \d+ s/);
      expect(Number(answers[2].headers.get("Retry-After"))).to.be.within(1, 60);

      const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } } };
      const mcp = await post("/mcp", initialize, { accept: "application/json, text/event-stream" });
      expect(mcp.status).to.equal(429);
      expect(await mcp.json()).to.deep.include({ jsonrpc: "2.0", id: null });
      expect((await rest.get("/agents/balance", agent.apiKey)).status, "and REST is out of budget too").to.equal(429);
    });

    it("limits calls without a key per client address", async () => {
      await freshWindow();
      const answers: RestResult[] = [];
      do answers.push(await rest.get("/openapi.json"));
      while (answers.at(-1)!.status === 200 && answers.length < 10);
      expect(answers.at(-1)!.status).to.equal(429);
      expect(answers.every((a) => a.headers.get("X-RateLimit-Limit") === "6")).to.equal(true);
      const counted = answers.slice(0, -1).map(remaining);
      expect(counted.at(-1), "refused only once the budget is spent").to.equal(0);
      counted.slice(1).forEach((left, i) => expect(left).to.equal(counted[i] - 1));
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

  it("counts a key's requests on every replica against one budget, apart from another deployment's", async () => {
    const [a, b, elsewhere] = await Promise.all([...replicas, other].map((server) => RestClient.connect(server.url)));
    const key = unknownKey();
    await freshWindow();
    const answers: RestResult[] = [];
    for (const client of [a, b, a, b, a]) answers.push(await client.get("/agents/balance", key));
    expect(answers.map((r) => r.status)).to.deep.equal([401, 401, 401, 429, 429]);
    expect(answers.map(remaining)).to.deep.equal([2, 1, 0, 0, 0]);
    const apart = await elsewhere.get("/agents/balance", key);
    expect([apart.status, remaining(apart)], "another deployment on the same Redis keeps its own budget").to.deep.equal([401, 2]);
  });
});
