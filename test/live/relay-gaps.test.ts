import { expect } from "chai";
import type { Client } from "graphql-ws";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { Task } from "../../server/tasks/task.entity";
import { ActorType, TaskStatus } from "../../server/tasks/task.enums";
import { transition } from "../../server/tasks/task.transition";
import { connect, subscribe, UPDATE_FIELDS, type Recorder } from "./support/ws-client";

const AGENT_FEED = `subscription($after: ID) { tasksUpdated(afterEventId: $after) { ${UPDATE_FIELDS} } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;

class RolledBackOnPurpose extends Error {}

interface HeldTransition {
  /** The event id the open transaction took from the sequence. */
  eventId: Promise<string>;
  finish(commit: boolean): Promise<void>;
}

/** Cancels a task in a transaction that stays open, holding its event id uncommitted, until the test finishes it. */
function holdCancellation(server: TestServer, taskId: string, agentId: string): HeldTransition {
  let flushed!: (id: string) => void;
  let decide!: (commit: boolean) => void;
  const eventId = new Promise<string>((resolve) => (flushed = resolve));
  const decision = new Promise<boolean>((resolve) => (decide = resolve));
  const done = server.app.orm.em
    .fork()
    .transactional(async (tx) => {
      const task = await tx.findOneOrFail(Task, taskId);
      const event = transition(tx, task, TaskStatus.CANCELLED, { type: ActorType.AGENT, id: agentId }, "held open by the test");
      server.app.services.ledger.refund(tx, task);
      await tx.flush();
      flushed(String(event.id));
      if (!(await decision)) throw new RolledBackOnPurpose();
    })
    .catch((err: unknown) => {
      if (!(err instanceof RolledBackOnPurpose)) throw err;
    });
  return {
    eventId,
    async finish(commit) {
      decide(commit);
      await done;
    },
  };
}

const postgres = testDatabases().find((db) => db.name === "postgresql");

(postgres ? describe : describe.skip)("the event relay when ids commit out of order (PostgreSQL; needs TEST_POSTGRES_URL)", () => {
  let server: TestServer;
  let client: Client;
  let agent: { apiKey: string; id: string };
  let feed: Recorder;
  const cancelled = () => feed.results.map((r) => r.tasksUpdated).filter((u) => u.status === "CANCELLED");

  before(async () => {
    // A long maximum hold: only the snapshot check can release a rolled-back id within the test's time.
    server = await startServer(postgres!, { LIVE_GAP_MAX_HOLD_MS: "600000" });
    agent = await registerAgent(server.client);
    client = connect(server.url, { "x-api-key": agent.apiKey });
    feed = subscribe(client, AGENT_FEED, { after: "0" });
  });
  after(async () => {
    await client.dispose();
    await server.stop();
  });

  async function twoOpenTasks(): Promise<[string, string]> {
    const post = async () => (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask.id as string;
    const ids: [string, string] = [await post(), await post()];
    await feed.until((r) => ids.every((id) => r.results.some((x) => x.tasksUpdated.taskId === id)));
    return ids;
  }

  it("an event that commits after a later one is delivered, and delivered first", async () => {
    const [slow, fast] = await twoOpenTasks();
    const held = holdCancellation(server, slow, agent.id);
    const slowEventId = await held.eventId;
    await server.client.ok(CANCEL, { id: fast }, agent.apiKey);
    const before = cancelled().length;
    await held.finish(true);

    await feed.until(() => cancelled().length === before + 2);
    const [first, second] = cancelled().slice(before);
    expect([first.taskId, first.eventId]).to.deep.equal([slow, slowEventId]);
    expect(second.taskId).to.equal(fast);
    expect(BigInt(second.eventId) > BigInt(first.eventId)).to.equal(true);
  });

  it("an id taken by a transaction that rolls back does not hold later events back", async () => {
    const [slow, fast] = await twoOpenTasks();
    const held = holdCancellation(server, slow, agent.id);
    const abandonedId = await held.eventId;
    await server.client.ok(CANCEL, { id: fast }, agent.apiKey);
    await held.finish(false);

    await feed.until(() => cancelled().some((u) => u.taskId === fast));
    expect(cancelled().map((u) => u.eventId)).not.to.include(abandonedId);
    expect(cancelled().filter((u) => u.taskId === slow)).to.deep.equal([]);
  });
});
