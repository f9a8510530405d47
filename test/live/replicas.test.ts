import { expect } from "chai";
import { postgresUrl, testDatabases } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";
import { connect, subscribe, UPDATE_FIELDS } from "./support/ws-client";
import { spawnServer, type ChildServer } from "./support/child-server";
import { initORM } from "../../server/db/orm";

const redisUrl = process.env.TEST_REDIS_URL;
const AGENT_FEED = `subscription($after: ID) { tasksUpdated(afterEventId: $after) { ${UPDATE_FIELDS} } }`;
const NEARBY_FEED = `subscription($near: GeoPointInput!, $radiusKm: Float!, $after: ID) {
  taskPostedNearby(near: $near, radiusKm: $radiusKm, afterEventId: $after) { ${UPDATE_FIELDS} } }`;

(postgresUrl() && redisUrl ? describe : describe.skip)("two server processes on one PostgreSQL, with Redis (needs TEST_POSTGRES_URL and TEST_REDIS_URL)", function () {
  this.timeout(120_000);
  const servers: ChildServer[] = [];
  let drop: () => Promise<void>;

  before(async () => {
    const created = await testDatabases().find((db) => db.name === "postgresql")!.create();
    drop = created.drop;
    // Polling is set to a minute, so within the test only a Redis notice can tell one process that the other committed.
    const env = { DATABASE_URL: (created.database as { url: string }).url, REDIS_URL: redisUrl!, LIVE_POLL_MS: "60000" };
    // Migrate first, so the two processes can start side by side.
    await (await initORM(created.database)).close();
    servers.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.kill()));
    await drop();
  });

  it("a subscriber on one process receives the changes made through the other, in order", async () => {
    const [a, b] = servers;
    const viaB = new GraphQLClient(`${b.url}/graphql`);
    const agent = await registerAgent(viaB);
    const operator = await registerOperator(viaB);
    const clients = [connect(a.url, { "x-api-key": agent.apiKey }), connect(b.url, { "x-api-key": operator.testApiKey })];
    try {
      // afterEventId "0" replays this new agent's (empty) history first, so nothing posted after subscribing can be missed.
      const onA = subscribe(clients[0], AGENT_FEED, { after: "0" });
      const onB = subscribe(clients[1], NEARBY_FEED, { near: { lat: 30.27, lng: -97.74 }, radiusKm: 5, after: "0" });
      const { postTask } = await viaB.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await viaB.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operator.testApiKey);
      await onA.until((r) => r.results.length === 2);

      const viaA = new GraphQLClient(`${a.url}/graphql`);
      const { postTask: second } = await viaA.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title: "Posted through A" }) }, agent.apiKey);
      await viaA.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id: second.id }, agent.apiKey);
      await onA.until((r) => r.results.length === 4);
      await onB.until((r) => r.results.some((x) => x.taskPostedNearby.taskId === second.id));

      expect(onA.results.map((r) => `${r.tasksUpdated.taskId === postTask.id ? "B" : "A"}:${r.tasksUpdated.status}`)).to.deep.equal([
        "B:POSTED",
        "B:ACCEPTED",
        "A:POSTED",
        "A:CANCELLED",
      ]);
      expect(onB.results.map((r) => r.taskPostedNearby.taskId), "B's operator sees tasks posted through both").to.include.members([postTask.id, second.id]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});
