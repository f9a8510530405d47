import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";
import { startServer, type TestServer } from "../support/server";
import { subscribersReach } from "../live/support/live";
import type { GraphQLBackend } from "../../server/mcp/graphql.backend";
import { createHttpBackend } from "../../server/mcp/http.backend";
import { POLL_MS, TaskAlarm } from "../../server/mcp/task.watch";

/** A backend that only announces changes when the test says so. */
function announcingBackend(): GraphQLBackend & { announce(): void; watching: number } {
  const listeners = new Set<() => void>();
  return {
    keyInstructions: "",
    execute: () => Promise.reject(new Error("not used")),
    watchTask(_taskId, changed) {
      listeners.add(changed);
      return () => listeners.delete(changed);
    },
    announce: () => listeners.forEach((changed) => changed()),
    get watching() {
      return listeners.size;
    },
  };
}

describe("MCP: waiting on a task is woken by change notices", () => {
  it("ends a long pause when the backend hears the task change, and a notice heard between pauses ends the next one at once", async () => {
    const backend = announcingBackend();
    const alarm = new TaskAlarm(backend, "task-1");
    expect(alarm.maxPauseMs, "with notices, polling is only the safety net").to.equal(POLL_MS.maxWithPush);
    const pause = alarm.pause(60_000);
    backend.announce();
    await pause;
    backend.announce();
    await alarm.pause(60_000);
    alarm.close();
    expect(backend.watching, "closing stops the watch").to.equal(0);
  });

  it("rejects a pause with the abort reason, and polls at the usual pace where there are no notices", async () => {
    const alarm = new TaskAlarm(announcingBackend(), "task-1");
    const controller = new AbortController();
    const pause = alarm.pause(60_000, controller.signal);
    controller.abort(new Error("the tool call was cancelled"));
    await pause.then(
      () => expect.fail("the pause should have been aborted"),
      (err: Error) => expect(err.message).to.equal("the tool call was cancelled"),
    );
    const { watchTask: _none, ...polling } = announcingBackend();
    expect(new TaskAlarm(polling, "task-1").maxPauseMs).to.equal(POLL_MS.max);
  });

  const [db] = testDatabases();
  describe(`the stdio server's backend, against HumanOps over graphql-ws (${db.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(db);
    });
    after(() => server.stop());

    it("hears its own task being accepted through the taskUpdated subscription", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const backend = createHttpBackend(new URL(`${server.url}/graphql`), agent.apiKey);
      const alarm = new TaskAlarm(backend, postTask.id);
      const status = async () => (await server.client.ok(`query($id: ID!) { task(id: $id) { status } }`, { id: postTask.id }, agent.apiKey)).task.status;
      // Only a notice ends a 60 s pause: each turn below was woken by one (the escrow's funding may come first).
      const woken = (async () => {
        do await alarm.pause(60_000);
        while ((await status()) !== "ACCEPTED");
      })();
      // The subscription is open once the server counts it; then the change is made.
      await subscribersReach(server, 1);
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operator.testApiKey);
      await woken;
      alarm.close();
    });
  });
});
