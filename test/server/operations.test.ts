import path from "node:path";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { expect } from "chai";
import { openSqliteFile } from "../support/sqlite-file";
import { createLogger } from "../../server/common/logger";
import { startServer } from "../support/server";
import { testDatabases } from "../support/databases";
import { GET_TASK, POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { GraphQLClient, type GraphQLResponse } from "../support/graphql-client";
import { serverCommand } from "../live/support/child-server";

const ROOT = path.join(__dirname, "..", "..");

describe("running HumanOps", () => {
  it("answers /healthz and /readyz for orchestrators", async () => {
    const server = await startServer(testDatabases()[0]);
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).to.equal(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({
        status: "ready",
        checks: { database: true, workers: true, accepting: true },
        workers: {
          "chain-bindings": "running",
          "chain-bindings/beat": "running",
          "event-relay": "running",
          "event-relay/read": "running",
          escrow: "running",
          "escrow/sender": "running",
          ...Object.fromEntries(server.app.chains.all().flatMap((chain) => [`escrow/indexer:${chain.key}`, `escrow/reconciler:${chain.key}`].map((loop) => [loop, "running"]))),
          jobs: "running",
          "jobs/claim": "running",
          webhooks: "running",
          "webhooks/sender": "running",
          retention: "running",
          "retention/prune": "running",
        },
      });
    } finally {
      await server.stop();
    }
  });

  it("expires a task by its durable job even when the deadline passed while no server was running", async () => {
    // A SQLite file (test/support/databases.ts), which outlives the server.
    const created = await testDatabases()[0].create();
    const database = created.database as { kind: "sqlite"; path: string };
    let server = await startServer({ database });
    const agent = await registerAgent(server.client);
    const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", deadline: new Date(Date.now() + 120_000).toISOString() }) }, agent.apiKey);
    await server.stop();

    // Time passes while HumanOps is down: move the deadline and its job into the past.
    const db = openSqliteFile(database.path);
    const past = Date.now() - 1_000;
    db.prepare("update tasks set deadline = ? where id = ?").run(past, postTask.id);
    const moved = db.prepare("update jobs set run_at = ? where dedupe_key = ?").run(past, `expire:${postTask.id}`);
    db.close();
    expect(moved.changes, "the expiry job was stored with the task").to.equal(1);

    server = await startServer({ database });
    try {
      const task = await waitForStatus(server.client, agent.apiKey, postTask.id, ["EXPIRED"]);
      expect(task.events.at(-1)).to.include({ fromStatus: "POSTED", toStatus: "EXPIRED", actorType: "SYSTEM" });
      const { viewerAgent } = await server.client.ok(`{ viewerAgent { balance { usd } } }`, {}, agent.apiKey);
      expect(viewerAgent.balance.usd).to.equal("10000.00");
    } finally {
      await server.stop();
      await created.drop();
    }
  });

  it("never writes an API key to its logs, even at trace level and on errors", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const server = await startServer(testDatabases()[0], { LOG_LEVEL: "trace" }, createLogger("trace", sink));
    try {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      await server.client.request(GET_TASK, { id: "not-a-task" }, operator.testApiKey);
      await server.client.request(POST_TASK, { input: taskInput({ rewardUsd: -1 }) }, agent.apiKey);
      const logs = lines.join("");
      expect(logs.length, "something was logged").to.be.greaterThan(0);
      for (const secret of [agent.apiKey, operator.testApiKey, operator.liveApiKey]) {
        expect(logs).not.to.include(secret);
        expect(logs).not.to.include(secret.slice(8));
      }
    } finally {
      await server.stop();
    }
  });

  it("on SIGTERM finishes the requests in flight, then exits 0", async function () {
    this.timeout(60_000);
    const created = await testDatabases()[0].create();
    const file = (created.database as { kind: "sqlite"; path: string }).path;
    const child = spawn(process.execPath, serverCommand(), {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_URL: file, TEST_MODE_STEP_MS: "0", LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buffered = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          buffered += chunk.toString();
          const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(buffered);
          if (match) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`server exited early with ${code}`)));
      });
      const client = new GraphQLClient(`${url}/graphql`);
      const agent = await registerAgent(client);
      const inFlight = Array.from({ length: 20 }, () => client.request(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey).then((r) => r, (err: Error) => err));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const results = await Promise.all(inFlight);
      expect(await exited).to.equal(0);
      const completed = results.filter((r): r is GraphQLResponse<Record<string, any>> => !(r instanceof Error));
      for (const r of completed) expect(r.errors, `an accepted request was answered in full: ${JSON.stringify(r.errors)}`).to.be.undefined;
      // Connections the server never read from are refused or reset: their requests did not run.
      for (const r of results) if (r instanceof Error) expect(String(r.cause ?? r)).to.match(/ECONNREFUSED|ECONNRESET/);
      const db = openSqliteFile(file, { readonly: true });
      const stored = db.prepare("select count(*) as n from tasks").get() as { n: number };
      db.close();
      expect(stored.n, "every answered post is stored, and nothing else").to.equal(completed.length);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await created.drop();
    }
  });
});
