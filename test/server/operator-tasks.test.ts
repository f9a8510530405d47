import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";

const MONEY = `reward { usd } fee { usd } total { usd }`;
const MY_TASKS = `query($filter: TaskFilter, $first: Int!, $after: String) {
  myTasks(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id status ${MONEY} } } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status ${MONEY} } }`;
const RELEASE = `mutation($id: ID!) { releaseTask(id: $id) { status operator { id } events { fromStatus toStatus actorType actorId reason } } }`;
const VIEWER = `{ viewerOperator { kycStatus tasksReleased } }`;

for (const db of testDatabases()) {
  describe(`the operator's side of the GraphQL API (${db.name})`, () => {
    let server: TestServer;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      agent = await registerAgent(server.client);
    });
    after(() => server.stop());

    const post = async () => (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey)).postTask.id as string;

    it("myTasks lists the tasks the operator holds, newest first, by status, page by page", async () => {
      const operator = await registerOperator(server.client);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = await post();
        await server.client.ok(ACCEPT, { id }, operator.testApiKey);
        ids.unshift(id);
      }
      await post(); // open, not theirs
      const first = await server.client.ok(MY_TASKS, { first: 2 }, operator.testApiKey);
      expect(first.myTasks.nodes.map((t: any) => t.id)).to.deep.equal(ids.slice(0, 2));
      expect(first.myTasks).to.deep.include({ totalCount: 3 });
      expect(first.myTasks.pageInfo.hasNextPage).to.equal(true);
      const second = await server.client.ok(MY_TASKS, { first: 2, after: first.myTasks.pageInfo.endCursor }, operator.testApiKey);
      expect(second.myTasks.nodes.map((t: any) => t.id)).to.deep.equal(ids.slice(2));
      expect(second.myTasks.pageInfo.hasNextPage).to.equal(false);

      await server.client.ok(RELEASE, { id: ids[1] }, operator.testApiKey);
      const accepted = await server.client.ok(MY_TASKS, { first: 10, filter: { status: "ACCEPTED" } }, operator.testApiKey);
      expect(accepted.myTasks.nodes.map((t: any) => t.id)).to.deep.equal([ids[0], ids[2]]);
      const live = await server.client.ok(MY_TASKS, { first: 10 }, operator.liveApiKey);
      expect(live.myTasks.totalCount, "a live key lists live tasks only").to.equal(0);
      const refused = await server.client.fails(MY_TASKS, { first: 10 }, agent.apiKey);
      expect(refused.extensions?.code).to.equal("FORBIDDEN");
    });

    it("releaseTask puts an accepted task back to POSTED for others, recorded in its events and on the operator's record", async () => {
      const holder = await registerOperator(server.client, "holder");
      const other = await registerOperator(server.client, "other");
      const id = await post();
      const notYet = await server.client.fails(RELEASE, { id }, holder.testApiKey);
      expect(notYet.extensions?.code, "a task the operator does not hold is not theirs to release").to.equal("NOT_FOUND");
      await server.client.ok(ACCEPT, { id }, holder.testApiKey);
      const tooLong = await server.client.fails(`mutation($id: ID!, $reason: String) { releaseTask(id: $id, reason: $reason) { status } }`, { id, reason: "x".repeat(1001) }, holder.testApiKey);
      expect(tooLong.extensions).to.include({ code: "BAD_USER_INPUT", field: "reason" });
      expect(tooLong.message).to.match(/at most 1000 characters/);
      const { releaseTask } = await server.client.ok(RELEASE, { id }, holder.testApiKey);
      expect(releaseTask.status).to.equal("POSTED");
      expect(releaseTask.operator).to.equal(null);
      expect(releaseTask.events.at(-1)).to.deep.equal({ fromStatus: "ACCEPTED", toStatus: "POSTED", actorType: "OPERATOR", actorId: holder.id, reason: "released by the operator" });
      expect((await server.client.ok(VIEWER, {}, holder.testApiKey)).viewerOperator.tasksReleased).to.equal(1);
      expect((await server.client.ok(ACCEPT, { id }, other.testApiKey)).acceptTask.status, "open to others at once").to.equal("ACCEPTED");

      await server.client.ok(`mutation($id: ID!) { cancelTask(id: $id) { status } }`, { id }, agent.apiKey);
      const ended = await server.client.fails(RELEASE, { id }, other.testApiKey);
      expect(ended.extensions?.code).to.equal("CONFLICT");
      expect(ended.message).to.match(/only an ACCEPTED task can be released; this task is CANCELLED/);
    });

    it("shows an operator its reward, never the agent's fee or total", async () => {
      const operator = await registerOperator(server.client);
      const id = await post();
      const hidden = { reward: { usd: "15.00" }, fee: null, total: null };
      const { availableTasks } = await server.client.ok(`query { availableTasks(near: { lat: 30.27, lng: -97.74 }, radiusKm: 5) { task { id ${MONEY} } } }`, {}, operator.testApiKey);
      expect(availableTasks.find((a: any) => a.task.id === id).task).to.deep.include(hidden);
      expect((await server.client.ok(`query($id: ID!) { task(id: $id) { ${MONEY} } }`, { id }, operator.testApiKey)).task).to.deep.equal(hidden);
      expect((await server.client.ok(ACCEPT, { id }, operator.testApiKey)).acceptTask).to.deep.include(hidden);
      const { task } = await server.client.ok(`query($id: ID!) { task(id: $id) { ${MONEY} } }`, { id }, agent.apiKey);
      expect(task, "the agent sees all three").to.deep.equal({ reward: { usd: "15.00" }, fee: { usd: "1.50" }, total: { usd: "16.50" } });
    });

    it("shows KYC as it applies to the key: NOT_REQUIRED for a test key, the verification status for a live key", async () => {
      const operator = await registerOperator(server.client);
      expect((await server.client.ok(VIEWER, {}, operator.testApiKey)).viewerOperator.kycStatus).to.equal("NOT_REQUIRED");
      expect((await server.client.ok(VIEWER, {}, operator.liveApiKey)).viewerOperator.kycStatus).to.equal("PENDING");
    });
  });
}
