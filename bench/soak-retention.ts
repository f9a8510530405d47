/**
 * Retention soak: one HumanOps (in this process, its own local chain) settles
 * SOAK_TASKS test tasks end to end (posted over GraphQL, walked by the mock
 * operator, scored, paid on chain, each event delivered to a local webhook
 * receiver) with short retention ages, and prints at intervals the row
 * counts of every pruned table beside the tables that are kept. The pruned
 * ones must stay flat while the kept ones grow with the tasks.
 *
 *   npm run soak -- retention                     # 10,000 tasks on SQLite
 *   SOAK_TASKS=1000 npm run soak -- retention
 *   SOAK_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run soak -- retention
 *   SOAK_MAX_MINUTES=30 npm run soak -- retention  # stops posting after 30 minutes, reports on what settled
 *
 * Exits non-zero if a pruned table ended more than 1.5x its size at half
 * way (plus a margin for what is in flight).
 */
import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../server/config";
import { createApp } from "../server/app";
import { createLogger } from "../server/common/logger";
import { testDatabases } from "../test/support/databases";
import { GraphQLClient } from "../test/support/graphql-client";
import { REGISTER_AGENT, taskInput } from "../test/support/fixtures";

const TASKS = Number(process.env.SOAK_TASKS ?? 10_000);
/** Unpaid tasks kept in flight. */
const IN_FLIGHT = Number(process.env.SOAK_IN_FLIGHT ?? 40);
const REPORT_EVERY = Number(process.env.SOAK_REPORT_EVERY ?? Math.max(100, Math.round(TASKS / 20)));
const AGE_S = process.env.SOAK_RETENTION_S ?? "5";
/** Stop posting after this long and report on the tasks settled by then (a shared machine may not settle them all). */
const MAX_MINUTES = Number(process.env.SOAK_MAX_MINUTES ?? 0);
const REPORT_MS = 30_000;
const PRUNED = ["jobs", "webhook_deliveries", "webhook_attempts", "idempotency_keys", "browser_sessions"];
const KEPT = ["tasks", "task_events", "ledger_entries", "chain_txs"];

async function main(): Promise<void> {
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200).end("ok"));
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hooksUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-soak-"));
  const pgUrl = process.env.SOAK_DATABASE_URL;
  if (pgUrl) process.env.TEST_POSTGRES_URL = pgUrl;
  const created = pgUrl ? await testDatabases().find((db) => db.name === "postgresql")!.create() : { database: { kind: "sqlite" as const, path: path.join(dir, "soak.db") }, drop: async () => undefined };
  const env = {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    PHOTO_STORE: "database",
    TEST_MODE_STEP_MS: "0",
    WORKER_POLL_MS: "50",
    WORKER_CONCURRENCY: "8",
    RATE_LIMIT_TEST_PER_MINUTE: "1000000",
    RATE_LIMIT_REGISTRATIONS_PER_HOUR: "1000",
    RETENTION_INTERVAL_MS: process.env.SOAK_RETENTION_INTERVAL_MS ?? "2000",
    RETENTION_JOBS_S: AGE_S,
    RETENTION_WEBHOOK_DELIVERIES_S: AGE_S,
    RETENTION_IDEMPOTENCY_S: AGE_S,
    RETENTION_SESSIONS_S: AGE_S,
  };
  const config = { ...loadConfig(env), database: created.database };
  const app = await createApp(config, { log: createLogger("warn") });
  const url = await app.listen();
  const client = new GraphQLClient(`${url}/graphql`);
  const count = async (table: string) => Number((await app.orm.em.fork().getConnection().execute<Array<{ n: number | string }>>(`select count(*) as n from ${table}`))[0].n);
  const paid = () => count("tasks where status = 'PAID'");
  const samples: Array<{ paid: number; counts: Record<string, number> }> = [];
  let failed = false;
  try {
    const { registerAgent } = await client.ok(REGISTER_AGENT, { input: { name: "soak", email: `soak-${Date.now()}@example.com` } });
    const apiKey = registerAgent.apiKey as string;
    await client.ok(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`, { input: { url: hooksUrl } }, apiKey);
    const post = `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`;
    const input = taskInput({ rewardUsd: 0.01, deadline: new Date(Date.now() + 7 * 86_400_000).toISOString() });
    console.log(`retention soak: ${TASKS} test tasks, ${IN_FLIGHT} in flight, retention ages ${AGE_S} s every ${env.RETENTION_INTERVAL_MS} ms, ${config.database.kind}`);
    console.log(["settled", "seconds", ...PRUNED, "|", ...KEPT].map((h) => h.padStart(h === "|" ? 1 : 12)).join(" "));
    const started = Date.now();
    const report = async (settled: number) => {
      const counts: Record<string, number> = {};
      for (const table of [...PRUNED, ...KEPT]) counts[table] = await count(table);
      samples.push({ paid: settled, counts });
      const cells = [String(settled), ((Date.now() - started) / 1000).toFixed(0), ...PRUNED.map((t) => String(counts[t])), "|", ...KEPT.map((t) => String(counts[t]))];
      console.log(cells.map((c) => c.padStart(c === "|" ? 1 : 12)).join(" "));
    };
    let posted = 0;
    let settled = 0;
    let nextReport = REPORT_EVERY;
    let reportedAt = Date.now();
    const stopPostingAt = MAX_MINUTES > 0 ? started + MAX_MINUTES * 60_000 : Infinity;
    // Once posting stops, what was posted settles (for at most five more minutes).
    const draining = () => Date.now() >= stopPostingAt && (settled >= posted || Date.now() > stopPostingAt + 300_000);
    while (settled < TASKS && !draining()) {
      const batch = Date.now() < stopPostingAt ? Math.min(TASKS - posted, IN_FLIGHT - (posted - settled)) : 0;
      await Promise.all(Array.from({ length: Math.max(0, batch) }, () => client.ok(post, { input }, apiKey)));
      posted += Math.max(0, batch);
      await new Promise((resolve) => setTimeout(resolve, 200));
      settled = await paid();
      if (settled >= nextReport || settled >= TASKS || Date.now() - reportedAt >= REPORT_MS) {
        await report(settled);
        reportedAt = Date.now();
        while (nextReport <= settled) nextReport += REPORT_EVERY;
      }
    }
    // One more retention interval, then the end figures.
    await app.escrow.idle(120_000);
    await new Promise((resolve) => setTimeout(resolve, Number(env.RETENTION_INTERVAL_MS) + Number(AGE_S) * 1000 + 1_000));
    await report(await paid());

    const half = samples.find((s) => s.paid >= samples.at(-1)!.paid / 2) ?? samples[0];
    const last = samples.at(-1)!;
    // What is in flight at any moment (jobs, deliveries of the last AGE_S seconds) is the margin.
    const margin = IN_FLIGHT * 20;
    const grew = PRUNED.filter((t) => last.counts[t] > half.counts[t] * 1.5 + margin);
    const seconds = (Date.now() - started) / 1000;
    console.log(`\n${last.paid} tasks settled in ${seconds.toFixed(0)} s (${(last.paid / seconds).toFixed(1)} tasks/s)`);
    for (const t of PRUNED) console.log(`  ${t.padEnd(20)} at ${half.paid} tasks ${half.counts[t]}, max ${Math.max(...samples.map((s) => s.counts[t]))}, at the end ${last.counts[t]}`);
    for (const t of KEPT) console.log(`  ${t.padEnd(20)} at ${half.paid} tasks ${half.counts[t]}, at the end ${last.counts[t]} (kept)`);
    console.log(grew.length ? `NOT flat: ${grew.join(", ")}` : "pruned tables flat");
    failed = grew.length > 0;
  } finally {
    await app.stop();
    await created.drop();
    receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
