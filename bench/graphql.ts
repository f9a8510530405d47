/**
 * GraphQL throughput and latency for posting and reading tasks, beside a
 * bare Node HTTP server answering a JSON body of the same size, in one run.
 *
 *   npm run bench                     # embedded SQLite, 5 s per scenario
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=20 npm run bench
 *   BENCH_REPEATS=3 npm run bench -- graphql  # ratios as the median of 3 rounds
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench
 */
import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../server/config";
import { createApp } from "../server/app";
import { graphqlRequest } from "./support/graphql-request";
import { report } from "./support/report";
import { measure, type LoadFigures } from "./support/load";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_REPEATS ?? 1);

interface Scenario {
  name: string;
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

interface Figures extends LoadFigures {
  name: string;
}

async function run(scenario: Scenario): Promise<Figures> {
  return { name: scenario.name, ...(await measure({ ...scenario, connections: CONNECTIONS }, SECONDS)) };
}

/** The floor: what Node's HTTP stack alone answers, with a body like a GraphQL answer. */
async function startBareServer(answer: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const graphql = graphqlRequest;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-bench-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? path.join(dir, "humanops.db"),
    TEST_MODE_STARTING_BALANCE_USD: "1000000",
    // The limiter stays in the measured path, with a budget the load cannot spend.
    RATE_LIMIT_TEST_PER_MINUTE: "1000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000",
  });
  const humanops = await createApp(config);
  const base = await humanops.listen();
  const endpoint = `${base}/graphql`;

  const { registerAgent } = await graphql(endpoint, `mutation { registerAgent(input: {name: "bench", email: "bench-${Date.now()}@bench.test"}) { apiKey } }`, {});
  const apiKey: string = registerAgent.apiKey;
  const headers = { "x-api-key": apiKey };
  const input = {
    title: "Photo of storefront",
    description: "Take 2 clear photos showing the full facade and signage.",
    taskType: "PHOTO",
    location: { lat: 30.2672, lng: -97.7431, address: "123 Main St, Austin, TX" },
    rewardUsd: "0.01",
    deadline: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    proofRequirements: ["Full facade photo", "Close-up of signage"],
    // No mock operator: the benchmark measures the API, not the background lifecycle.
    testScenario: "MANUAL",
  };
  const postBody = JSON.stringify({ query: `mutation($input: PostTaskInput!) { postTask(input: $input) { id status } }`, variables: { input } });
  const { postTask } = await graphql(endpoint, `mutation($input: PostTaskInput!) { postTask(input: $input) { id status title reward { usd } } }`, { input }, apiKey);
  const readBody = JSON.stringify({ query: `query($id: ID!) { task(id: $id) { id status title reward { usd } } }`, variables: { id: postTask.id } });
  const sampleAnswer = JSON.stringify({ data: { task: { id: postTask.id, status: "POSTED", title: input.title, reward: { usd: "0.01" } } } });
  const listBody = JSON.stringify({ query: `{ tasks(first: 20) { totalCount nodes { id status title reward { usd } } } }` });

  const typenameBody = JSON.stringify({ query: "{ __typename }" });
  const restUrl = `${base}/api/v1/tasks/${postTask.id}`;

  const bare = await startBareServer(sampleAnswer);
  // Each round measures the floor first, then every scenario; a ratio is taken within its round and the median of the rounds is shown.
  const scenarios: Scenario[] = [
    { name: "GraphQL task(id)", url: endpoint, method: "POST", headers, body: readBody },
    { name: "REST GET /api/v1/tasks/:id", url: restUrl, method: "GET", headers },
    { name: "{__typename} without a key", url: endpoint, method: "POST", body: typenameBody },
    { name: "GraphQL tasks(first: 20)", url: endpoint, method: "POST", headers, body: listBody },
  ];
  const rounds: Figures[][] = [];
  let posting: Figures | undefined;
  try {
    console.log(`HumanOps GraphQL benchmark: ${CONNECTIONS} connections, ${SECONDS} s per scenario, ${ROUNDS} round(s), ${config.database.kind}, Node ${process.version}, ${os.cpus().length} cores`);
    for (let round = 0; round < ROUNDS; round++) {
      const rows = [await run({ name: "bare HTTP (baseline)", url: bare.url, method: "POST", body: readBody })];
      for (const scenario of scenarios) rows.push(await run(scenario));
      rounds.push(rows);
    }
    // Posting grows the database, so it runs once, last.
    posting = await run({ name: "GraphQL postTask", url: endpoint, method: "POST", headers, body: postBody });
  } finally {
    await bare.close();
    await humanops.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const summary = rounds[0].map((row, i) => ({
    name: row.name,
    requestsPerSecond: median(rounds.map((rows) => rows[i].requestsPerSecond)),
    p50: median(rounds.map((rows) => rows[i].p50)),
    p99: median(rounds.map((rows) => rows[i].p99)),
    errors: rounds.reduce((sum, rows) => sum + rows[i].errors, 0),
    ratio: median(rounds.map((rows) => rows[i].requestsPerSecond / rows[0].requestsPerSecond)),
  }));
  summary.push({ ...posting!, ratio: posting!.requestsPerSecond / summary[0].requestsPerSecond });
  const pad = (text: string, width: number) => text.padEnd(width);
  console.log(`\n${pad("scenario", 30)}${pad("req/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 8)}vs baseline${ROUNDS > 1 ? ` (median of ${ROUNDS})` : ""}`);
  for (const row of summary) {
    console.log(pad(row.name, 30) + pad(row.requestsPerSecond.toFixed(0), 10) + pad(row.p50.toFixed(1), 9) + pad(row.p99.toFixed(1), 9) + pad(String(row.errors), 8) + `${row.ratio.toFixed(3)}x`);
  }
  const byName = (name: string) => summary.find((row) => row.name === name)!;
  report({
    bareRequestsPerSecond: summary[0].requestsPerSecond,
    taskById: { requestsPerSecond: byName("GraphQL task(id)").requestsPerSecond, ratio: byName("GraphQL task(id)").ratio },
    restGet: { requestsPerSecond: byName("REST GET /api/v1/tasks/:id").requestsPerSecond, ratio: byName("REST GET /api/v1/tasks/:id").ratio },
    typename: { requestsPerSecond: byName("{__typename} without a key").requestsPerSecond, ratio: byName("{__typename} without a key").ratio },
    errors: summary.reduce((sum, row) => sum + row.errors, 0),
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
