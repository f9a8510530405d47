import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { testDatabases, type TestDatabase } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { Receiver } from "./support/receiver";
import { spawnServer, type ChildServer } from "./support/child-server";
import { eventually } from "./support/live";
import { CREATE_ENDPOINT, DELIVERIES } from "./support/webhook-ops";

/** A database two server processes can share one after the other: a SQLite file, or a fresh PostgreSQL database. */
async function durableDatabase(db: TestDatabase): Promise<{ url: string; drop(): Promise<void> }> {
  if (db.name === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-live-"));
    return { url: path.join(dir, `${randomBytes(4).toString("hex")}.db`), drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const { database, drop } = await db.create();
  return { url: (database as { url: string }).url, drop };
}

for (const db of testDatabases()) {
  describe(`webhook delivery across a crash (${db.name}, server processes)`, function () {
    this.timeout(120_000);
    let server: ChildServer | undefined;
    let receiver: Receiver;
    let database: { url: string; drop(): Promise<void> };

    before(async () => {
      database = await durableDatabase(db);
    });
    after(async () => {
      await server?.kill();
      await receiver?.close();
      await database.drop();
    });

    it("kill the server while the receiver holds a delivery, restart it: nothing is lost, the held event comes again under its id", async () => {
      // The first request is held open until the receiver closes; every later one is answered 200.
      receiver = await new Receiver((_request, index) => (index === 0 ? "hold" : 200)).start();
      // The kill comes well within the 2 s timeout; the lease (twice that, plus a second) then lets the restarted server take over.
      const env = { DATABASE_URL: database.url, WEBHOOK_TIMEOUT_MS: "2000", WEBHOOK_RETRY_BASE_MS: "100" };
      server = await spawnServer(env);
      const client = new GraphQLClient(`${server.url}/graphql`);
      const agent = await registerAgent(client);
      await client.ok(CREATE_ENDPOINT, { input: { url: receiver.url, eventTypes: ["task.posted"] } }, agent.apiKey);
      const taskIds: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const { postTask } = await client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title: `Task ${i}` }) }, agent.apiKey);
        taskIds.push(postTask.id);
      }

      await receiver.until((r) => r.requests.length >= 1);
      const held = String(receiver.requests[0].headers["webhook-id"]);
      await server.kill();

      server = await spawnServer(env);
      const restarted = new GraphQLClient(`${server.url}/graphql`);
      const eventIds = () => receiver.requests.map((r) => String(r.headers["webhook-id"]));
      await receiver.until(() => new Set(eventIds()).size === 3 && eventIds().filter((id) => id === held).length >= 2, 60_000);

      expect(new Set(receiver.events.map((e) => e.data.task_id))).to.deep.equal(new Set(taskIds));
      const deliveries = async () => (await restarted.ok(DELIVERIES, { filter: { status: "DELIVERED" } }, agent.apiKey)).webhookDeliveries.nodes;
      await eventually(async () => (await deliveries()).length === 3, "every delivery recorded as delivered");
      const retried = (await deliveries()).find((d: any) => d.eventId === held);
      expect(retried.attempts, "claimed by the killed server, then by the restarted one").to.equal(2);
      expect(retried.attemptLog.map((a: any) => a.succeeded), "the cut-short attempt left no record; the next one succeeded").to.deep.equal([true]);
    });
  });
}
