import { expect } from "chai";
import type { Client } from "graphql-ws";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { GET_TASK, POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { ApiKey } from "../../server/agents/api-key.entity";
import WebSocket from "ws";
import { connect, isCloseEvent, subscribe, UPDATE_FIELDS, wsUrl, type Recorder } from "./support/ws-client";
import { eventually, subscribersReach } from "./support/live";

const AGENT_FEED = `subscription($after: ID) { tasksUpdated(afterEventId: $after) { ${UPDATE_FIELDS} task { id status } } }`;
const TASK_FEED = `subscription($taskId: ID!, $after: ID) { taskUpdated(taskId: $taskId, afterEventId: $after) { ${UPDATE_FIELDS} } }`;
const NEARBY_FEED = `subscription($near: GeoPointInput!, $radiusKm: Float!) { taskPostedNearby(near: $near, radiusKm: $radiusKm) { ${UPDATE_FIELDS} task { id title } } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;

type Update = { eventId: string; taskId: string; kind: string; status: string; previousStatus: string | null; occurredAt: string; actorType: string };
const updates = (recorder: Recorder, field: string, taskId?: string): Update[] =>
  recorder.results.map((result) => result[field] as Update).filter((update) => !taskId || update.taskId === taskId);
const statuses = (list: Update[]) => list.map((update) => update.status);
/** An update as "STATUS", or "funded" for the task's escrow being funded on chain. */
const step = (update: Update) => (update.kind === "ESCROW_FUNDED" ? "funded" : update.status);

for (const db of testDatabases()) {
  describe(`live updates over graphql-ws (${db.name})`, () => {
    let server: TestServer;
    const clients: Client[] = [];
    const open = (params?: Record<string, unknown>) => {
      const client = connect(server.url, params);
      clients.push(client);
      return client;
    };

    before(async () => {
      server = await startServer(db, { LIVE_KEY_RECHECK_MS: "50" });
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
    });
    after(() => server.stop());

    it("a subscriber sees POSTED → funded on chain → ACCEPTED → SUBMITTED → VERIFIED → PAID of a test task, in order, with no gaps", async () => {
      const agent = await registerAgent(server.client);
      const before = server.app.services.live.subscriberCount;
      const feed = subscribe(open({ "x-api-key": agent.apiKey }), AGENT_FEED);
      await subscribersReach(server, before + 1);

      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await feed.until((r) => statuses(updates(r, "tasksUpdated")).includes("PAID"));

      const received = updates(feed, "tasksUpdated", postTask.id);
      expect(received.map(step)).to.deep.equal(["POSTED", "funded", "ACCEPTED", "SUBMITTED", "VERIFIED", "PAID"]);
      expect(received.map((u) => u.previousStatus)).to.deep.equal([null, "POSTED", "POSTED", "ACCEPTED", "SUBMITTED", "VERIFIED"]);
      const { task } = await server.client.ok(GET_TASK, { id: postTask.id }, agent.apiKey);
      expect(received.map((u) => u.eventId), "the task's own event log, one update per event").to.deep.equal(task.events.map((e: any) => e.id));
      expect(feed.results[0].tasksUpdated.task).to.deep.include({ id: postTask.id });
    });

    it("refuses a connection without a key (4401) or with a bad or revoked key (4403)", async () => {
      const none = subscribe(open({}), AGENT_FEED);
      await none.ended();
      expect(isCloseEvent(none.errors) && none.errors.code).to.equal(4401);

      const forged = subscribe(open({ "x-api-key": `ho_test_${"A".repeat(43)}` }), AGENT_FEED);
      await forged.ended();
      expect(isCloseEvent(forged.errors) && forged.errors.code).to.equal(4403);

      const agent = await registerAgent(server.client);
      await revokeKeysOf(server, agent.id);
      const revoked = subscribe(open({ authorization: `Bearer ${agent.apiKey}` }), AGENT_FEED);
      await revoked.ended();
      expect(isCloseEvent(revoked.errors) && revoked.errors.code).to.equal(4403);
    });

    it("refuses subscriptions the caller may not have: an operator's agent feed, another agent's task", async () => {
      const operator = await registerOperator(server.client);
      const wrongRole = subscribe(open({ "x-api-key": operator.testApiKey }), AGENT_FEED);
      await wrongRole.ended();
      expect((wrongRole.errors as any[])[0].extensions.code).to.equal("FORBIDDEN");

      const owner = await registerAgent(server.client);
      const stranger = await registerAgent(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, owner.apiKey);
      const probe = subscribe(open({ "x-api-key": stranger.apiKey }), TASK_FEED, { taskId: postTask.id });
      await probe.ended();
      expect((probe.errors as any[])[0].extensions.code).to.equal("NOT_FOUND");
    });

    it("another agent's subscriber sees nothing of a task that is not theirs", async () => {
      const owner = await registerAgent(server.client, "owner");
      const other = await registerAgent(server.client, "other");
      const before = server.app.services.live.subscriberCount;
      const othersFeed = subscribe(open({ "x-api-key": other.apiKey }), AGENT_FEED);
      await subscribersReach(server, before + 1);

      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, owner.apiKey);
      await waitForStatus(server.client, owner.apiKey, postTask.id, ["PAID"]);
      // The other agent's own task, posted afterwards, proves its feed was live all along.
      const { postTask: ownTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, other.apiKey);
      await othersFeed.until((r) => r.results.length > 0);
      expect(new Set(updates(othersFeed, "tasksUpdated").map((u) => u.taskId))).to.deep.equal(new Set([ownTask.id]));
    });

    it("a subscriber that reconnects resumes after its last event id: the missed events once each, then live ones", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const first = open({ "x-api-key": agent.apiKey });
      const feed = subscribe(first, AGENT_FEED, { after: "0" });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", proofRequirements: ["1 photo"] }) }, agent.apiKey);
      await server.client.ok(ACCEPT, { id: postTask.id }, operator.testApiKey);
      await feed.until((r) => r.results.length === 3);
      const lastSeen = updates(feed, "tasksUpdated")[2].eventId;
      await first.dispose();

      // While disconnected, the task is cancelled and a second task is posted.
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
      const { postTask: second } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);

      const resumed = subscribe(open({ "x-api-key": agent.apiKey }), AGENT_FEED, { after: lastSeen });
      await resumed.until((r) => r.results.length === 3);
      await server.client.ok(CANCEL, { id: second.id }, agent.apiKey);
      await resumed.until((r) => r.results.length === 4);

      const all = [...updates(feed, "tasksUpdated"), ...updates(resumed, "tasksUpdated")];
      expect(all.map((u) => `${u.taskId === postTask.id ? "first" : "second"}:${step(u)}`)).to.deep.equal([
        "first:POSTED",
        "first:funded",
        "first:ACCEPTED",
        "first:CANCELLED",
        "second:POSTED",
        "second:funded",
        "second:CANCELLED",
      ]);
      const ids = all.map((u) => BigInt(u.eventId));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]), "strictly increasing event ids").to.equal(true);
    });

    it("an operator's nearby feed offers tasks within the radius once their escrow is funded on chain, and nothing else", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const before = server.app.services.live.subscriberCount;
      const nearby = subscribe(open({ "x-api-key": operator.testApiKey }), NEARBY_FEED, { near: { lat: 30.27, lng: -97.74 }, radiusKm: 5 });
      await subscribersReach(server, before + 1);

      const denver = taskInput({ testScenario: "MANUAL", title: "Denver", location: { lat: 39.7392, lng: -104.9903 } });
      await server.client.ok(POST_TASK, { input: denver }, agent.apiKey);
      const { postTask: austin } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title: "Austin" }) }, agent.apiKey);
      await nearby.until((r) => r.results.length > 0);
      // Offered means takeable: the escrow is funded, so accepting at once succeeds.
      await server.client.ok(ACCEPT, { id: austin.id }, operator.testApiKey);

      const received = updates(nearby, "taskPostedNearby");
      expect(received.map((u) => [u.taskId, u.kind, u.status])).to.deep.equal([[austin.id, "ESCROW_FUNDED", "POSTED"]]);
      expect(nearby.results[0].taskPostedNearby.task).to.deep.equal({ id: austin.id, title: "Austin" });
    });

    it("an operator's nearby feed offers a task again when the operator holding it gives it back, and replays that on resume", async () => {
      const agent = await registerAgent(server.client);
      const holder = await registerOperator(server.client, "holder");
      const watcher = await registerOperator(server.client, "watcher");
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title: "Released", location: { lat: 47.6062, lng: -122.3321 } }) }, agent.apiKey);
      await server.client.ok(ACCEPT, { id: postTask.id }, holder.testApiKey);
      const before = server.app.services.live.subscriberCount;
      const near = { near: { lat: 47.6, lng: -122.33 }, radiusKm: 5 };
      const nearby = subscribe(open({ "x-api-key": watcher.testApiKey }), NEARBY_FEED, near);
      await subscribersReach(server, before + 1);

      await server.client.ok(`mutation($id: ID!) { releaseTask(id: $id) { status } }`, { id: postTask.id }, holder.testApiKey);
      await nearby.until((r) => r.results.length > 0);
      const offered = updates(nearby, "taskPostedNearby");
      expect(offered.map((u) => [u.taskId, u.kind, u.previousStatus, u.status])).to.deep.equal([[postTask.id, "STATUS_CHANGED", "ACCEPTED", "POSTED"]]);
      await server.client.ok(ACCEPT, { id: postTask.id }, watcher.testApiKey);

      const replay = subscribe(open({ "x-api-key": watcher.testApiKey }), `subscription($near: GeoPointInput!, $radiusKm: Float!, $after: ID) {
        taskPostedNearby(near: $near, radiusKm: $radiusKm, afterEventId: $after) { ${UPDATE_FIELDS} } }`, { ...near, after: "0" });
      await replay.until((r) => updates(r, "taskPostedNearby", postTask.id).length === 2);
      expect(updates(replay, "taskPostedNearby", postTask.id).map((u) => u.kind)).to.deep.equal(["ESCROW_FUNDED", "STATUS_CHANGED"]);
    });

    it("an operator's nearby feed announces a raised reward, a later deadline and new text of an open task (TASK_CHANGED), not a change once it is taken", async () => {
      const agent = await registerAgent(server.client);
      const watcher = await registerOperator(server.client, "bargain-hunter");
      const taker = await registerOperator(server.client, "taker");
      const location = { lat: 39.7392, lng: -104.9903 };
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", title: "Denver", location }) }, agent.apiKey);
      const FUNDED = `query($id: ID!) { task(id: $id) { escrow { status } } }`;
      await eventually(async () => (await server.client.ok(FUNDED, { id: postTask.id }, agent.apiKey)).task.escrow?.status === "FUNDED", "the escrow to be funded");
      const before = server.app.services.live.subscriberCount;
      const near = { near: { lat: 39.74, lng: -104.99 }, radiusKm: 5 };
      const nearby = subscribe(open({ "x-api-key": watcher.testApiKey }), NEARBY_FEED, near);
      await subscribersReach(server, before + 1);

      const CHANGE = `mutation($id: ID!, $input: ChangeTaskInput!) { changeTask(id: $id, input: $input) { id } }`;
      await server.client.ok(CHANGE, { id: postTask.id, input: { rewardUsd: "25", reason: "rush" } }, agent.apiKey);
      await nearby.until((r) => r.results.length === 1);
      const raised = updates(nearby, "taskPostedNearby")[0];
      expect(raised).to.include({ taskId: postTask.id, kind: "TASK_CHANGED", previousStatus: "POSTED", status: "POSTED", actorType: "AGENT" });
      expect(nearby.results[0].taskPostedNearby.task).to.deep.equal({ id: postTask.id, title: "Denver" });

      const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
      await server.client.ok(CHANGE, { id: postTask.id, input: { deadline: later, title: "Denver, two storefronts" } }, agent.apiKey);
      await nearby.until((r) => r.results.length === 2);
      expect(nearby.results[1].taskPostedNearby).to.deep.include({ kind: "TASK_CHANGED", task: { id: postTask.id, title: "Denver, two storefronts" } });

      // Once taken, a change is the holder's business (taskUpdated), not an offer.
      await server.client.ok(ACCEPT, { id: postTask.id }, taker.testApiKey);
      await server.client.ok(CHANGE, { id: postTask.id, input: { rewardUsd: "30" } }, agent.apiKey);
      // A resumed feed replays exactly the offers: funded, then the two changes while open.
      const replay = subscribe(open({ "x-api-key": watcher.testApiKey }), `subscription($near: GeoPointInput!, $radiusKm: Float!, $after: ID) {
        taskPostedNearby(near: $near, radiusKm: $radiusKm, afterEventId: $after) { ${UPDATE_FIELDS} } }`, { ...near, after: "0" });
      await replay.until((r) => updates(r, "taskPostedNearby", postTask.id).length === 3);
      expect(updates(replay, "taskPostedNearby", postTask.id).map((u) => u.kind)).to.deep.equal(["ESCROW_FUNDED", "TASK_CHANGED", "TASK_CHANGED"]);
      expect(updates(nearby, "taskPostedNearby").map((u) => u.kind), "the raise after acceptance was not announced").to.deep.equal(["TASK_CHANGED", "TASK_CHANGED"]);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
    });

    it("closing the connection ends its subscriptions; revoking its key closes the connection", async () => {
      const agent = await registerAgent(server.client);
      const before = server.app.services.live.subscriberCount;
      const client = open({ "x-api-key": agent.apiKey });
      subscribe(client, AGENT_FEED);
      subscribe(client, AGENT_FEED);
      await subscribersReach(server, before + 2);
      await client.dispose();
      await eventually(() => server.app.services.live.subscriberCount === before, "the closed connection's subscriptions to end");

      const kept = subscribe(open({ "x-api-key": agent.apiKey }), AGENT_FEED);
      await subscribersReach(server, before + 1);
      await revokeKeysOf(server, agent.id);
      await kept.ended();
      expect(isCloseEvent(kept.errors) && kept.errors.code).to.equal(4403);
      await eventually(() => server.app.services.live.subscriberCount === before, "the revoked key's subscriptions to end");
    });
    it("the operator holding a task is told when the agent changes it (TASK_CHANGED, the status unchanged)", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client, "told");
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await eventually(async () => (await server.client.request(ACCEPT, { id: postTask.id }, operator.testApiKey)).errors === undefined, "the task to be accepted once funded");
      const before = server.app.services.live.subscriberCount;
      const feed = subscribe(open({ "x-api-key": operator.testApiKey }), TASK_FEED, { taskId: postTask.id });
      await subscribersReach(server, before + 1);
      await server.client.ok(`mutation($id: ID!) { changeTask(id: $id, input: { rewardUsd: "20", reason: "rush" }) { id } }`, { id: postTask.id }, agent.apiKey);
      await feed.until((r) => updates(r, "taskUpdated").some((u) => u.kind === "TASK_CHANGED"));
      const notice = updates(feed, "taskUpdated").find((u) => u.kind === "TASK_CHANGED")!;
      expect(notice).to.include({ taskId: postTask.id, status: "ACCEPTED", previousStatus: "ACCEPTED", actorType: "AGENT" });
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
    });

    it("an update's task is read as it is after the event, not as the subscription first saw it", async () => {
      const agent = await registerAgent(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const before = server.app.services.live.subscriberCount;
      // Subscribing reads the task (is it the agent's?), with its title as it is now.
      const feed = subscribe(open({ "x-api-key": agent.apiKey }), `subscription($taskId: ID!) { taskUpdated(taskId: $taskId) { kind task { title } } }`, { taskId: postTask.id });
      await subscribersReach(server, before + 1);
      await server.client.ok(`mutation($id: ID!) { changeTask(id: $id, input: { title: "Photo of the bakery", reason: "clearer" }) { id } }`, { id: postTask.id }, agent.apiKey);
      await feed.until((r) => r.results.some((u) => u.taskUpdated.kind === "TASK_CHANGED"));
      expect(feed.results.find((u) => u.taskUpdated.kind === "TASK_CHANGED")!.taskUpdated.task).to.deep.equal({ title: "Photo of the bakery" });
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
    });

    it("an event reaching many subscriptions of one caller with the same document is resolved once for them all, and another caller's for that caller", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client, "shared");
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await eventually(async () => (await server.client.request(ACCEPT, { id: postTask.id }, operator.testApiKey)).errors === undefined, "the task to be accepted once funded");
      const feed = `subscription($taskId: ID!) { taskUpdated(taskId: $taskId) { eventId kind task { id status operator { id } } } }`;
      const before = server.app.services.live.subscriberCount;
      // Two subscriptions on one connection, seven more on their own.
      const shared = open({ "x-api-key": agent.apiKey });
      const agentFeeds = [shared, shared, ...Array.from({ length: 7 }, () => open({ "x-api-key": agent.apiKey }))].map((client) => subscribe(client, feed, { taskId: postTask.id }));
      const operatorFeed = subscribe(open({ "x-api-key": operator.testApiKey }), feed, { taskId: postTask.id });
      await subscribersReach(server, before + 10);

      // How often the update's task is resolved, for whom.
      const tasks = server.app.services.tasks;
      const resolved = { agent: 0, operator: 0 };
      const { getForAgent, getForOperator } = tasks;
      tasks.getForAgent = (...args: Parameters<typeof getForAgent>) => (resolved.agent++, getForAgent.apply(tasks, args));
      tasks.getForOperator = (...args: Parameters<typeof getForOperator>) => (resolved.operator++, getForOperator.apply(tasks, args));
      try {
        await server.client.ok(`mutation($id: ID!) { changeTask(id: $id, input: { rewardUsd: "21", reason: "rush" }) { id } }`, { id: postTask.id }, agent.apiKey);
        const changed = (recorder: Recorder) => recorder.results.map((r) => r.taskUpdated).find((u: { kind: string }) => u.kind === "TASK_CHANGED");
        for (const recorder of [...agentFeeds, operatorFeed]) await recorder.until((r) => changed(r) !== undefined);
        expect(resolved, "one resolution per caller, not per subscription").to.deep.equal({ agent: 1, operator: 1 });
        const seen = agentFeeds.map(changed);
        expect(seen[0].task).to.deep.include({ id: postTask.id, status: "ACCEPTED", operator: { id: operator.id } });
        for (const update of seen) expect(update).to.deep.equal(seen[0]);
        expect(changed(operatorFeed)).to.deep.include({ eventId: seen[0].eventId, task: seen[0].task });
      } finally {
        tasks.getForAgent = getForAgent;
        tasks.getForOperator = getForOperator;
        await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
      }
    });
  });
}

for (const db of testDatabases()) {
  describe(`revocation closes live connections at once (${db.name})`, () => {
    let server: TestServer;

    before(async () => {
      // The periodic re-check is an hour away: only the revocation itself can close the connection within the test.
      server = await startServer(db, { LIVE_KEY_RECHECK_MS: "3600000" });
    });
    after(() => server.stop());

    it("a revoked key's connection is closed with 4403 at once, not at the next periodic check (an hour away)", async () => {
      const agent = await registerAgent(server.client);
      const before = server.app.services.live.subscriberCount;
      const client = connect(server.url, { "x-api-key": agent.apiKey });
      try {
        const feed = subscribe(client, AGENT_FEED);
        await subscribersReach(server, before + 1);
        const revokedAt = Date.now();
        await revokeKeysOf(server, agent.id);
        await feed.ended();
        expect(Date.now() - revokedAt, "well before the periodic check").to.be.below(5_000);
        expect(isCloseEvent(feed.errors) && feed.errors.code).to.equal(4403);
      } finally {
        await client.dispose();
      }
    });
  });
}

describe("the connections' heartbeat (sqlite)", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer(testDatabases()[0], { LIVE_HEARTBEAT_MS: "100" });
  });
  after(() => server.stop());

  it("ends a connection that stops answering pings, and keeps one that answers them", async () => {
    const agent = await registerAgent(server.client);
    const before = server.app.services.live.subscriberCount;
    const answering = connect(server.url, { "x-api-key": agent.apiKey });
    const feed = subscribe(answering, AGENT_FEED);
    // A client gone silent: a socket that never answers a ping (as a peer whose network dropped).
    const silent = new WebSocket(wsUrl(server.url), "graphql-transport-ws", { autoPong: false });
    const closed = new Promise<number>((resolve) => silent.once("close", (code) => resolve(code)));
    silent.once("open", () => silent.send(JSON.stringify({ type: "connection_init", payload: { "x-api-key": agent.apiKey } })));
    try {
      await subscribersReach(server, before + 1);
      // 1006: no close frame; the server ended the socket within two heartbeats of its last ping.
      expect(await closed).to.equal(1006);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await feed.until((r) => updates(r, "tasksUpdated", postTask.id).length > 0);
    } finally {
      silent.terminate();
      await answering.dispose();
    }
  });
});

/** A raw graphql-transport-ws socket: what it was sent, in order, and how it closed. */
class RawSocket {
  readonly messages: Array<Record<string, any>> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;

  constructor(url: string) {
    this.socket = new WebSocket(wsUrl(url), "graphql-transport-ws");
    this.socket.on("message", (data: Buffer) => this.messages.push(JSON.parse(data.toString()) as Record<string, any>));
    this.closed = new Promise((resolve) => this.socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async send(...messages: unknown[]): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) await new Promise((resolve) => this.socket.once("open", resolve));
    for (const message of messages) this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  received(count: number): Promise<Array<Record<string, any>>> {
    return eventually(() => this.messages.length >= count, `${count} message(s), have ${JSON.stringify(this.messages)}`).then(() => this.messages);
  }

  end(): void {
    this.socket.terminate();
  }
}

describe("the graphql-transport-ws protocol (sqlite)", () => {
  let server: TestServer;
  let apiKey: string;
  const sockets: RawSocket[] = [];
  const open = () => {
    const socket = new RawSocket(server.url);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    server = await startServer(testDatabases()[0]);
    ({ apiKey } = await registerAgent(server.client));
  });
  afterEach(() => sockets.splice(0).forEach((socket) => socket.end()));
  after(() => server.stop());

  it("acknowledges connection_init, answers ping with pong (its payload echoed), and runs a query as next then complete", async () => {
    const socket = open();
    await socket.send({ type: "connection_init", payload: { "x-api-key": apiKey } });
    expect((await socket.received(1))[0]).to.deep.equal({ type: "connection_ack" });
    await socket.send({ type: "ping", payload: { at: 1 } }, { type: "subscribe", id: "q1", payload: { query: "{ __typename }" } });
    const messages = await socket.received(4);
    expect(messages.slice(1)).to.deep.equal([
      { type: "pong", payload: { at: 1 } },
      { id: "q1", type: "next", payload: { data: { __typename: "Query" } } },
      { id: "q1", type: "complete" },
    ]);
  });

  it("sends a subscription's invalid document as an error message; a complete from the client ends a subscription without an answer", async () => {
    const socket = open();
    await socket.send({ type: "connection_init", payload: { "x-api-key": apiKey } });
    await socket.received(1);
    const before = server.app.services.live.subscriberCount;
    await socket.send({ type: "subscribe", id: "bad", payload: { query: "subscription { noSuchField }" } });
    const [, error] = await socket.received(2);
    expect(error).to.include({ id: "bad", type: "error" });
    expect(error.payload[0].message).to.match(/noSuchField/);
    await socket.send({ type: "subscribe", id: "feed", payload: { query: AGENT_FEED } });
    await subscribersReach(server, before + 1);
    await socket.send({ type: "complete", id: "feed" });
    await eventually(() => server.app.services.live.subscriberCount === before, "the completed subscription to end");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.messages).to.have.length(2);
  });

  it("closes with graphql-ws's codes: 4400 a message not of the protocol, 4401 a subscribe before connection_init, 4409 an id in use and 4429 a second connection_init", async () => {
    const invalid = open();
    await invalid.send("{ not json");
    expect(await invalid.closed).to.deep.equal({ code: 4400, reason: "Invalid message received" });

    const early = open();
    await early.send({ type: "subscribe", id: "1", payload: { query: "{ __typename }" } });
    expect(await early.closed).to.deep.equal({ code: 4401, reason: "Unauthorized" });

    const twice = open();
    await twice.send({ type: "connection_init", payload: { "x-api-key": apiKey } });
    await twice.received(1);
    await twice.send({ type: "subscribe", id: "same", payload: { query: AGENT_FEED } }, { type: "subscribe", id: "same", payload: { query: AGENT_FEED } });
    expect(await twice.closed).to.deep.equal({ code: 4409, reason: "Subscriber for same already exists" });

    const reinit = open();
    await reinit.send({ type: "connection_init", payload: { "x-api-key": apiKey } });
    await reinit.received(1);
    await reinit.send({ type: "connection_init", payload: { "x-api-key": apiKey } });
    expect(await reinit.closed).to.deep.equal({ code: 4429, reason: "Too many initialisation requests" });
  });
});

async function revokeKeysOf(server: TestServer, agentId: string): Promise<void> {
  const em = server.app.orm.em.fork();
  for (const key of await em.find(ApiKey, { agent: agentId })) await server.app.services.keys.revoke(em, key.id);
}
