/**
 * The soak's load generator, run in a process of its own (bench/soak.ts
 * starts it): mixed traffic against the replicas for SOAK_MINUTES, a fixed
 * number of requests in flight (SOAK_CONCURRENCY). Prints one JSON line with
 * what it measured.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { connect, subscribe, UPDATE_FIELDS } from "../test/live/support/ws-client";
import { POST_TASK, REGISTER_AGENT, REGISTER_OPERATOR, taskInput } from "../test/support/fixtures";
import { proofForm, restTaskBody } from "../test/support/rest-client";
import { CREATE_ENDPOINT } from "../test/live/support/webhook-ops";
import { generatePhoto } from "../server/photos/photo.samples";

const URLS = process.env.SOAK_URLS!.split(",");
const RECEIVER = process.env.SOAK_RECEIVER!;
const MINUTES = Number(process.env.SOAK_MINUTES ?? 3);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 6);
const AGENTS = 4;
const PHOTOS = [generatePhoto(1, 64, 64), generatePhoto(2, 64, 64)];

interface Sample {
  op: string;
  ms: number;
  status: number;
}
const samples: Sample[] = [];
const failures: string[] = [];
let next = 0;
const url = () => URLS[next++ % URLS.length];

/** One HTTP request, timed; a 5xx, a network failure or an INTERNAL_SERVER_ERROR GraphQL error is an error. */
async function call(op: string, path: string, init: RequestInit & { apiKey?: string; json?: unknown }): Promise<any> {
  const headers: Record<string, string> = { ...(init.apiKey ? { "x-api-key": init.apiKey } : {}), ...(init.json !== undefined ? { "content-type": "application/json" } : {}) };
  const started = performance.now();
  let status = 0;
  try {
    const res = await fetch(`${url()}${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    status = res.status;
    const body: any = await res.json().catch(() => undefined);
    if (body?.errors?.some((e: any) => e.extensions?.code === "INTERNAL_SERVER_ERROR")) status = 500;
    if (status >= 500) failures.push(`${op}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  } catch (err) {
    failures.push(`${op}: ${(err as Error).message}`);
    return undefined;
  } finally {
    samples.push({ op, ms: performance.now() - started, status });
  }
}

const graphql = (op: string, query: string, variables: Record<string, unknown>, apiKey?: string) => call(op, "/graphql", { method: "POST", apiKey, json: { query, variables } });

async function setup() {
  const agents: string[] = [];
  for (let i = 0; i < AGENTS; i += 1) {
    const { data } = await graphql("registerAgent", REGISTER_AGENT, { input: { name: `soak-${i}`, email: `soak-${i}-${randomUUID()}@agents.test` } });
    agents.push(data.registerAgent.apiKey);
    await graphql("createWebhookEndpoint", CREATE_ENDPOINT, { input: { url: RECEIVER, eventTypes: ["task.posted", "task.paid", "task.proof_submitted"] } }, data.registerAgent.apiKey);
  }
  const { data } = await graphql("registerOperator", REGISTER_OPERATOR, { input: { name: "soak-operator", email: `soak-op-${randomUUID()}@operators.test`, payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" } });
  return { agents, operator: data.registerOperator.testApiKey as string };
}

async function main() {
  const { agents, operator } = await setup();
  // Live dashboards: one subscription per agent, on alternating replicas.
  const clients = agents.map((apiKey, i) => connect(URLS[i % URLS.length], { "x-api-key": apiKey }));
  const feeds = clients.map((client) => subscribe(client, `subscription { tasksUpdated { ${UPDATE_FIELDS} } }`));
  const posted: string[] = [];
  const reward = { rewardUsd: 0.05 };

  const ops: Array<[number, () => Promise<void>]> = [
    [30, async () => {
      const agent = agents[Math.floor(Math.random() * agents.length)];
      const body = await graphql("postTask", POST_TASK, { input: taskInput(reward) }, agent);
      if (body?.data?.postTask) posted.push(`${agents.indexOf(agent)}:${body.data.postTask.id}`);
    }],
    [30, async () => {
      const pick = posted[Math.floor(Math.random() * posted.length)];
      if (!pick) return;
      const [i, id] = pick.split(":");
      await graphql("task", `query($id: ID!) { task(id: $id) { id status escrow { status } events { kind toStatus } } }`, { id }, agents[Number(i)]);
    }],
    [15, async () => {
      await graphql("tasks", `{ tasks(first: 20) { nodes { id status } } }`, {}, agents[Math.floor(Math.random() * agents.length)]);
    }],
    [10, async () => {
      await call("restBalance", "/api/v1/agents/balance", { method: "GET", apiKey: agents[Math.floor(Math.random() * agents.length)] });
    }],
    [15, async () => {
      // A proof upload over REST multipart: an agent posts for a human, the operator accepts and uploads photos.
      const created = await call("restPostTask", "/api/v1/tasks", { method: "POST", apiKey: agents[0], json: restTaskBody({ test_scenario: "MANUAL", reward_usd: 0.05 }) });
      if (!created?.task_id) return;
      await call("restAccept", `/api/v1/tasks/${created.task_id}/accept`, { method: "POST", apiKey: operator });
      await call("restProof", `/api/v1/tasks/${created.task_id}/proof`, { method: "POST", apiKey: operator, body: proofForm(PHOTOS, "soak proof") });
    }],
  ];
  const total = ops.reduce((sum, [weight]) => sum + weight, 0);
  const pick = () => {
    let r = Math.random() * total;
    for (const [weight, op] of ops) if ((r -= weight) < 0) return op;
    return ops[0][1];
  };

  const started = Date.now();
  const until = started + MINUTES * 60_000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) await pick()();
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const events = feeds.reduce((sum, feed) => sum + feed.results.length, 0);
  const subscriptionErrors = feeds.filter((feed) => feed.errors).map((feed) => JSON.stringify(feed.errors));
  await Promise.all(clients.map((client) => client.dispose()));

  const byOp = new Map<string, number[]>();
  for (const s of samples) byOp.set(s.op, [...(byOp.get(s.op) ?? []), s.ms]);
  const quantile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  };
  const all = samples.map((s) => s.ms);
  process.stdout.write(
    `${JSON.stringify({
      soakLoad: {
        seconds,
        requests: samples.length,
        perSecond: Number((samples.length / seconds).toFixed(1)),
        p50Ms: quantile(all, 0.5),
        p99Ms: quantile(all, 0.99),
        status4xx: samples.filter((s) => s.status >= 400 && s.status < 500).length,
        errors: failures.length,
        firstErrors: failures.slice(0, 5),
        tasksPosted: posted.length,
        subscriptionEvents: events,
        subscriptionErrors,
        ops: Object.fromEntries([...byOp].map(([op, ms]) => [op, { count: ms.length, p50Ms: quantile(ms, 0.5), p99Ms: quantile(ms, 0.99) }])),
      },
    })}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
