import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { RestClient, restTaskBody } from "../support/rest-client";

const HOLD = `acceptWindowMinutes reservedUntil status operator { id }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { ${HOLD} } }`;
const RELEASE = `mutation($id: ID!) { releaseTask(id: $id) { status } }`;
const RECORD = `{ viewerOperator { tasksReleased reservationsLapsed } }`;

for (const db of testDatabases()) {
  describe(`the accept window: an operator's hold on a task without proof (${db.name})`, () => {
    let server: TestServer;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      agent = await registerAgent(server.client);
    });
    after(() => server.stop());

    const post = async (overrides: Record<string, unknown> = {}) =>
      (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", ...overrides }) }, agent.apiKey)).postTask.id as string;

    /** Time passes: the lapse job of the acceptance at `acceptedAt` becomes due now, as its window ends. */
    async function windowEnds(taskId: string, acceptedAt: number): Promise<void> {
      const moved = await server.app.orm.em.fork().getConnection().execute<{ affectedRows: number }>("update jobs set run_at = ? where dedupe_key = ? and status = 'PENDING'", [Date.now() - 1, `lapse:${taskId}:${acceptedAt}`], "run");
      expect(moved.affectedRows, "the acceptance queued its lapse").to.equal(1);
    }

    async function acceptedAtOf(taskId: string): Promise<number> {
      const [row] = await server.app.orm.em.fork().getConnection().execute<Array<{ accepted_at: string | number | Date }>>("select accepted_at from tasks where id = ?", [taskId]);
      return new Date(row.accepted_at).getTime();
    }

    it("refuses a window outside 5 minutes to 7 days, naming the field, and defaults to 120 minutes", async () => {
      for (const acceptWindowMinutes of [4, 10_081]) {
        const refused = await server.client.fails(POST_TASK, { input: taskInput({ testScenario: "MANUAL", acceptWindowMinutes }) }, agent.apiKey);
        expect(refused.extensions).to.include({ code: "BAD_USER_INPUT", field: "acceptWindowMinutes" });
        expect(refused.message).to.match(/whole number of minutes from 5 to 10080/);
      }
      const fraction = await server.client.fails(POST_TASK, { input: taskInput({ testScenario: "MANUAL", acceptWindowMinutes: 2.5 }) }, agent.apiKey);
      expect(fraction.extensions, "GraphQL's Int refuses it first").to.include({ code: "BAD_USER_INPUT" });
      expect(fraction.message).to.match(/acceptWindowMinutes/);
      const id = await post();
      const { task } = await server.client.ok(`query($id: ID!) { task(id: $id) { ${HOLD} } }`, { id }, agent.apiKey);
      expect(task).to.deep.include({ acceptWindowMinutes: 120, reservedUntil: null, status: "POSTED" });
    });

    it("holds an accepted task for the window, never past the deadline", async () => {
      const operator = await registerOperator(server.client, "holder");
      const windowed = await post({ acceptWindowMinutes: 30 });
      const before = Date.now();
      const { acceptTask } = await server.client.ok(ACCEPT, { id: windowed }, operator.testApiKey);
      const until = new Date(acceptTask.reservedUntil).getTime();
      expect(until - before, "about 30 minutes after acceptance").to.be.within(30 * 60_000 - 5_000, 30 * 60_000 + 5_000);

      const deadline = new Date(Date.now() + 10 * 60_000).toISOString();
      const short = await post({ acceptWindowMinutes: 60, deadline });
      const held = (await server.client.ok(ACCEPT, { id: short }, operator.testApiKey)).acceptTask;
      expect(new Date(held.reservedUntil).toISOString(), "the deadline comes first").to.equal(deadline);
      const lapses = await server.app.orm.em.fork().getConnection().execute<Array<{ n: number | string }>>("select count(*) as n from jobs where dedupe_key like ?", [`lapse:${short}:%`]);
      expect(Number(lapses[0].n), "no lapse is queued past the deadline: the expiry ends the task there").to.equal(0);
    });

    it("without proof in the window, the task is POSTED again for others and the lapse is on the holder's record", async () => {
      const holder = await registerOperator(server.client, "slow");
      const other = await registerOperator(server.client, "next");
      const id = await post({ acceptWindowMinutes: 10 });
      await server.client.ok(ACCEPT, { id }, holder.testApiKey);
      await windowEnds(id, await acceptedAtOf(id));

      const reopened = await waitForStatus(server.client, agent.apiKey, id, ["POSTED"]);
      expect(reopened.events.at(-1)).to.deep.include({ fromStatus: "ACCEPTED", toStatus: "POSTED", actorType: "SYSTEM", reason: "no proof within the accept window of 10 minutes" });
      const { task } = await server.client.ok(`query($id: ID!) { task(id: $id) { ${HOLD} captureCode } }`, { id }, agent.apiKey);
      expect(task).to.deep.include({ reservedUntil: null, operator: null, captureCode: null });
      expect((await server.client.ok(RECORD, {}, holder.testApiKey)).viewerOperator).to.deep.equal({ tasksReleased: 0, reservationsLapsed: 1 });
      expect((await server.client.ok(ACCEPT, { id }, other.testApiKey)).acceptTask.status, "open to others at once").to.equal("ACCEPTED");
    });

    it("a lapse ends only the acceptance it was queued for: a later holder keeps the task", async () => {
      const first = await registerOperator(server.client, "first");
      const second = await registerOperator(server.client, "second");
      const id = await post({ acceptWindowMinutes: 10 });
      await server.client.ok(ACCEPT, { id }, first.testApiKey);
      const firstAcceptance = await acceptedAtOf(id);
      await server.client.ok(RELEASE, { id }, first.testApiKey);
      await server.client.ok(ACCEPT, { id }, second.testApiKey);
      await windowEnds(id, firstAcceptance);

      // The first acceptance's job runs (done) and leaves the second holder alone.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const [job] = await server.app.orm.em.fork().getConnection().execute<Array<{ status: string }>>("select status from jobs where dedupe_key = ?", [`lapse:${id}:${firstAcceptance}`]);
        if (job.status === "DONE") break;
        expect(Date.now(), "the lapse job ran").to.be.below(deadline);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { task } = await server.client.ok(`query($id: ID!) { task(id: $id) { ${HOLD} } }`, { id }, agent.apiKey);
      expect(task).to.deep.include({ status: "ACCEPTED", operator: { id: second.id } });
      expect((await server.client.ok(RECORD, {}, second.testApiKey)).viewerOperator.reservationsLapsed).to.equal(0);
      expect((await server.client.ok(RECORD, {}, first.testApiKey)).viewerOperator).to.deep.equal({ tasksReleased: 1, reservationsLapsed: 0 });
    });

    it("REST takes accept_window_minutes and answers it with reserved_until", async () => {
      const rest = await RestClient.connect(server.url);
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", accept_window_minutes: 45 }), agent.apiKey);
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ accept_window_minutes: 45, reserved_until: null });
      const refused = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", accept_window_minutes: 3 }), agent.apiKey);
      expect(refused.status).to.equal(400);
      expect(refused.body.error).to.include({ code: "BAD_USER_INPUT", field: "accept_window_minutes" });
      const operator = await registerOperator(server.client, "rest-holder");
      const accepted = await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      expect(accepted.status).to.equal(200);
      expect(new Date(accepted.body.reserved_until).getTime() - Date.now()).to.be.within(44 * 60_000, 46 * 60_000);
    });
  });
}
