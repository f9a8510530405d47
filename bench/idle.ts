/**
 * Idle benchmark: what a HumanOps server with nothing to do costs, with the
 * production defaults (embedded test chain, job worker, outbox, indexer,
 * webhooks, live updates): CPU milliseconds per second and SQL statements per
 * second over a quiet window, after one task has settled so every loop has
 * run at least once.
 *
 *   npm run bench -- idle                       # 20 s window on SQLite
 *   BENCH_IDLE_SECONDS=60 BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench npm run bench -- idle
 *   BENCH_IDLE_PROFILE=idle.cpuprofile npm run bench -- idle   # and where the quiet window's CPU went (open in Chrome DevTools)
 */
import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../server/config";
import { report } from "./support/report";
import { startCpuProfile } from "./support/cpu-profile";
import { createApp } from "../server/app";
import { Task } from "../server/tasks/task.entity";
import { TaskStatus } from "../server/tasks/task.enums";
import { graphqlRequest } from "./support/graphql-request";

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);

const graphql = (url: string, query: string, variables: Record<string, unknown>, apiKey?: string) => graphqlRequest(`${url}/graphql`, query, variables, apiKey);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-idle-"));
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", PHOTO_STORE: "database", DATABASE_URL: process.env.BENCH_DATABASE_URL ?? path.join(dir, "humanops.db") });
  const app = await createApp(config);
  const url = await app.listen();
  try {
    // One task through its whole life, so every background loop has had work once.
    const { registerAgent } = await graphql(url, `mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey } }`, { input: { name: "idle bench", email: `idle-${Date.now()}@agents.test` } });
    const { postTask } = await graphql(
      url,
      `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`,
      { input: { title: "Idle bench", description: "One task to warm every loop.", taskType: "PHOTO", location: { lat: 30.27, lng: -97.74 }, rewardUsd: 1, deadline: new Date(Date.now() + 86_400_000).toISOString(), proofRequirements: ["A photo"] } },
      registerAgent.apiKey,
    );
    while ((await app.orm.em.fork().findOneOrFail(Task, postTask.id)).status !== TaskStatus.PAID) await new Promise((resolve) => setTimeout(resolve, 50));
    await app.escrow.idle();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    let statements = 0;
    const counted = new Map<string, number>();
    app.orm.config.set("onQuery", (sql: string) => {
      statements++;
      const head = sql.replace(/\s+/g, " ").slice(0, 60);
      counted.set(head, (counted.get(head) ?? 0) + 1);
      return sql;
    });
    const profile = process.env.BENCH_IDLE_PROFILE;
    const stopProfile = profile ? await startCpuProfile() : undefined;
    const cpu = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    const elapsed = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (stopProfile) await stopProfile(profile!);
    const cpuMsPerSecond = (used.user + used.system) / 1000 / elapsed;

    console.log(`idle benchmark: ${elapsed.toFixed(1)} s quiet, ${config.database.kind}, local chain in process, production polling defaults`);
    console.log(`\n| measure | idle |\n|---|---:|\n| CPU | ${cpuMsPerSecond.toFixed(1)} ms per s |\n| SQL statements | ${(statements / elapsed).toFixed(1)} per s |`);
    report({ cpuMsPerSecond, statementsPerSecond: statements / elapsed });
    const top = [...counted.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
    if (top.length) console.log(`\nmost frequent statements (per s):\n${top.map(([sql, n]) => `  ${(n / elapsed).toFixed(2)}  ${sql}`).join("\n")}`);
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
