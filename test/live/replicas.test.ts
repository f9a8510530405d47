import { expect } from "chai";
import { postgresUrl, testDatabases } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { BrowserSession } from "../support/browser";
import { POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";
import { connect, subscribe, UPDATE_FIELDS } from "./support/ws-client";
import { spawnServer, type ChildServer } from "./support/child-server";
import { initORM } from "../../server/db/orm";
import { ownedChain, type OwnedChain } from "../chain/support/chain";

const redisUrl = process.env.TEST_REDIS_URL;
const AGENT_FEED = `subscription($after: ID) { tasksUpdated(afterEventId: $after) { ${UPDATE_FIELDS} } }`;
const NEARBY_FEED = `subscription($near: GeoPointInput!, $radiusKm: Float!, $after: ID) {
  taskPostedNearby(near: $near, radiusKm: $radiusKm, afterEventId: $after) { ${UPDATE_FIELDS} } }`;

(postgresUrl() && redisUrl ? describe : describe.skip)("two server processes on one PostgreSQL, with Redis (needs TEST_POSTGRES_URL and TEST_REDIS_URL)", function () {
  this.timeout(120_000);
  const servers: ChildServer[] = [];
  let drop: () => Promise<void>;
  let chain: OwnedChain;

  before(async () => {
    const created = await testDatabases().find((db) => db.name === "postgresql")!.create();
    drop = created.drop;
    // Replicas settle on one shared chain, as in production (each would otherwise run its own in-process chain).
    chain = await ownedChain({ funderOwnsUsdc: true });
    // Polling is set to a minute, so within the test only a Redis notice can tell one process that the other committed.
    const env = { ...chain.env("TEST_CHAIN_"), DATABASE_URL: (created.database as { url: string }).url, REDIS_URL: redisUrl!, LIVE_POLL_MS: "60000" };
    // Migrate first, so the two processes can start side by side.
    await (await initORM(created.database)).close();
    servers.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    await drop();
    await chain?.stop();
  });

  it("a subscriber on one process receives the changes made through the other, in order", async () => {
    const [a, b] = servers;
    const viaA = new GraphQLClient(`${a.url}/graphql`);
    const viaB = new GraphQLClient(`${b.url}/graphql`);
    const agent = await registerAgent(viaB);
    const operator = await registerOperator(viaB);
    const clients = [connect(a.url, { "x-api-key": agent.apiKey }), connect(b.url, { "x-api-key": operator.testApiKey })];
    try {
      // afterEventId "0" replays this new agent's (empty) history first, so nothing posted after subscribing can be missed.
      const onA = subscribe(clients[0], AGENT_FEED, { after: "0" });
      const onB = subscribe(clients[1], NEARBY_FEED, { near: { lat: 30.27, lng: -97.74 }, radiusKm: 5, after: "0" });
      const post = async (via: GraphQLClient, title: string) =>
        (await via.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title }) }, agent.apiKey)).postTask.id as string;
      const first = await post(viaB, "Posted through B");
      const second = await post(viaB, "Posted through B again");
      const third = await post(viaA, "Posted through A");

      const posted = (recorder: typeof onA, field: string, kind: string) => recorder.results.map((r) => r[field]).filter((u) => u.kind === kind).map((u) => u.taskId);
      await onA.until((r) => posted(r, "tasksUpdated", "STATUS_CHANGED").length === 3 && posted(r, "tasksUpdated", "ESCROW_FUNDED").length === 3);
      await onB.until((r) => posted(r, "taskPostedNearby", "ESCROW_FUNDED").length === 3);
      expect(posted(onA, "tasksUpdated", "STATUS_CHANGED"), "B's changes reach A, in order").to.deep.equal([first, second, third]);
      expect(posted(onA, "tasksUpdated", "ESCROW_FUNDED"), "and their fundings on the shared chain").to.deep.equal([first, second, third]);
      expect(posted(onB, "taskPostedNearby", "ESCROW_FUNDED"), "A's change reaches B").to.deep.equal([first, second, third]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it("a browser session opened on one process signs in on the other, and signing out on either ends it on both", async () => {
    const [a, b] = servers;
    const agent = await registerAgent(new GraphQLClient(`${a.url}/graphql`));
    const page = new BrowserSession(a.url);
    expect((await page.signIn(agent.apiKey)).status).to.equal(200);
    const viewer = async (url: string) => {
      page.url = url;
      return (await page.graphql(`{ viewerAgent { id } }`)).body;
    };
    expect((await viewer(b.url)).data.viewerAgent.id).to.equal(agent.id);
    const cookie = page.cookie;
    expect((await page.fetch("/auth/session", { method: "DELETE" })).status).to.equal(204);
    page.cookie = cookie;
    expect((await viewer(a.url)).errors[0].extensions.code).to.equal("UNAUTHENTICATED");
  });
});
