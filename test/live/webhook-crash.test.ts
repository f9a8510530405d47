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
      // Short leases so the restarted server takes over the dead one's delivery (and jobs) within seconds.
      const env = { DATABASE_URL: database.url, WEBHOOK_TIMEOUT_MS: "500", WEBHOOK_RETRY_BASE_MS: "100", WORKER_LOCK_MS: "1000" };
      server = await spawnServer(env);
      const client = new GraphQLClient(`${server.url}/graphql`);
      const agent = await registerAgent(client);
      await client.ok(CREATE_ENDPOINT, { input: { url: receiver.url } }, agent.apiKey);
      const { postTask } = await client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);

      await receiver.until((r) => r.requests.length >= 1);
      const held = String(receiver.requests[0].headers["humanops-event-id"]);
      await server.kill();

      server = await spawnServer(env);
      const restarted = new GraphQLClient(`${server.url}/graphql`);
      const received = () => new Set(receiver.requests.map((r) => String(r.headers["humanops-event-id"])));
      await receiver.until(() => received().size === 5 && receiver.requests.filter((r) => r.headers["humanops-event-id"] === held).length >= 2, 60_000);

      const statuses = receiver.events.map((e) => e.data.status);
      expect(new Set(statuses)).to.deep.equal(new Set(["POSTED", "ACCEPTED", "SUBMITTED", "VERIFIED", "PAID"]));
      await eventually(async () => {
        const { webhookDeliveries } = await restarted.ok(DELIVERIES, { filter: { taskId: postTask.id } }, agent.apiKey);
        return webhookDeliveries.nodes.length === 5 && webhookDeliveries.nodes.every((d: any) => d.status === "DELIVERED");
      }, "every delivery recorded as delivered");
      const { webhookDeliveries } = await restarted.ok(DELIVERIES, { filter: { taskId: postTask.id } }, agent.apiKey);
      const retried = webhookDeliveries.nodes.find((d: any) => d.eventId === held);
      expect(retried.attempts, "claimed by the killed server, then by the restarted one").to.equal(2);
    });
  });
}
