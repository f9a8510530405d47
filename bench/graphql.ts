/**
 * GraphQL throughput and latency for posting and reading tasks, beside a
 * bare Node HTTP server answering a JSON body of the same size, in one run.
 *
 *   npm run bench                     # embedded SQLite, 5 s per scenario
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=20 npm run bench
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench
 */
import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import autocannon from "autocannon";
import { loadConfig } from "../server/config";
import { createApp } from "../server/app";
import { graphqlRequest } from "./support/graphql-request";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

interface Scenario {
  name: string;
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

interface Figures {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(scenario: Scenario): Promise<Figures> {
  const result = await autocannon({
    url: scenario.url,
    method: scenario.method,
    headers: { "content-type": "application/json", ...scenario.headers },
    body: scenario.body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  return {
    name: scenario.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
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

  const bare = await startBareServer(sampleAnswer);
  const rows: Figures[] = [];
  try {
    console.log(`HumanOps GraphQL benchmark: ${CONNECTIONS} connections, ${SECONDS} s per scenario, ${config.database.kind}, Node ${process.version}, ${os.cpus().length} cores`);
    rows.push(await measure({ name: "bare HTTP (baseline)", url: bare.url, method: "POST", body: readBody }));
    rows.push(await measure({ name: "GraphQL task(id)", url: endpoint, method: "POST", headers, body: readBody }));
    rows.push(await measure({ name: "GraphQL tasks(first: 20)", url: endpoint, method: "POST", headers, body: listBody }));
    rows.push(await measure({ name: "GraphQL postTask", url: endpoint, method: "POST", headers, body: postBody }));
  } finally {
    await bare.close();
    await humanops.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const baseline = rows[0].requestsPerSecond;
  const pad = (text: string, width: number) => text.padEnd(width);
  console.log(`\n${pad("scenario", 28)}${pad("req/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("errors", 8)}vs baseline`);
  for (const row of rows) {
    console.log(
      pad(row.name, 28) +
        pad(row.requestsPerSecond.toFixed(0), 10) +
        pad(row.p50.toFixed(1), 9) +
        pad(row.p99.toFixed(1), 9) +
        pad(String(row.errors), 8) +
        `${(row.requestsPerSecond / baseline).toFixed(3)}x`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
