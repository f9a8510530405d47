/**
 * Subscription fan-out benchmark: N graphql-ws clients (default 10,000)
 * subscribed on one HumanOps process receive task updates, beside the same
 * fan-out done by a bare `ws` broadcast server, measured in the same run.
 *
 *   npm run bench:subscriptions                      # 10,000 subscribers, 5 updates
 *   BENCH_SUBSCRIBERS=2000 BENCH_ROUNDS=3 npm run bench:subscriptions
 *   BENCH_PROFILE_DIR=/tmp/prof npm run bench:subscriptions   # a CPU profile of each server process
 *
 * Each server runs in its own child process (so its memory is its own);
 * the clients run in this process. Both sides are measured the same way:
 * the same graphql-ws client connects, sends connection_init and subscribes
 * (the bare server answers with connection_ack and keeps the subscription's
 * id, the least a server of the protocol does), and the bare server
 * broadcasts the very messages a HumanOps subscriber received for one
 * update (a posted test task brings two: posted, then its escrow funded),
 * around each subscriber's own id, so both sides' clients parse the same
 * messages with the same code. Latency is from the moment this process
 * causes an update (a postTask mutation over HTTP; a broadcast request to
 * the ws server) to the moment each client has the round's first message,
 * on one clock; a round ends once the clients have been quiet for a while,
 * so no message of one round is counted in the next.
 * Memory per connection is the server's heap and RSS growth, after GC,
 * from before the clients connect to after they have all subscribed.
 * 10,000 clients need about 10,000 file descriptors on each side: raise
 * `ulimit -n` if the run says so.
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import WebSocket, { WebSocketServer } from "ws";
import { createClient, type Client } from "graphql-ws";
import { graphqlRequest as request } from "./support/graphql-request";
import { report as reportFigures } from "./support/report";
import { SCRIPT_FLAGS } from "./support/runtime";

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECT_BATCH = 250;
const RUN_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
const ROUND_TIMEOUT_MS = 60_000;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

type Role = "humanops" | "ws";
type Request = { type: "memory" } | { type: "count" } | { type: "cpu" } | { type: "broadcast"; payload: string } | { type: "stop" };
type Reply = { type: "ready"; url: string } | { type: "memory"; heapUsed: number; rss: number } | { type: "count"; value: number } | { type: "cpu"; ms: number };

interface Memory {
  heapUsed: number;
  rss: number;
}

interface PhaseResult {
  name: string;
  /** Each client's latency to the first message of each round. */
  latenciesMs: number[];
  /** The messages the clients received over the rounds. */
  messages: number;
  perConnection: Memory;
  connectMs: number;
  /** The server process's CPU time (user + system) while connecting and subscribing, and over the fan-out rounds. */
  connectCpuMs: number;
  fanOutCpuMs: number;
}

// ── the server side (child processes) ─────────────────────────────────────

async function serve(role: Role): Promise<void> {
  let count: () => number;
  let broadcast: (payload: string) => void = () => undefined;
  let url: string;
  if (role === "humanops") {
    const { loadConfig } = await import("../server/config");
    const { createApp } = await import("../server/app");
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? ":memory:",
      LIVE_MAX_QUEUED_EVENTS: String(ROUNDS + 10),
    });
    const app = await createApp(config);
    url = await app.listen();
    count = () => app.services.live.subscriberCount;
  } else {
    // A bare ws server with the least of graphql-transport-ws: it acknowledges connection_init and keeps each socket's subscription id.
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, backlog: 4096, perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once("listening", resolve));
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const subscribed = new Map<WebSocket, string>();
    wss.on("connection", (socket) => {
      socket.on("message", (data) => {
        const message = JSON.parse(String(data)) as { type: string; id?: string };
        if (message.type === "connection_init") socket.send(`{"type":"connection_ack"}`);
        else if (message.type === "subscribe") subscribed.set(socket, JSON.stringify(message.id));
      });
      socket.on("close", () => subscribed.delete(socket));
    });
    count = () => subscribed.size;
    broadcast = (payload) => {
      for (const [socket, id] of subscribed) socket.send(`{"id":${id},"type":"next","payload":${payload}}`);
    };
  }
  const reply = (message: Reply) => process.send!(message);
  // If the benchmark dies, its servers go with it.
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: Request) => {
    if (message.type === "memory") reply({ type: "memory", ...settledMemory() });
    else if (message.type === "count") reply({ type: "count", value: count() });
    else if (message.type === "cpu") {
      const { user, system } = process.cpuUsage();
      reply({ type: "cpu", ms: (user + system) / 1000 });
    }
    else if (message.type === "broadcast") broadcast(message.payload);
    else process.exit(0);
  });
  reply({ type: "ready", url });
}

function settledMemory(): Memory {
  for (let i = 0; i < 3; i += 1) global.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

// ── the client side (this process) ────────────────────────────────────────

class ServerProcess {
  private readonly pending: Array<(reply: Reply) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (reply: Reply) => this.pending.shift()?.(reply));
  }

  static async start(role: Role): Promise<{ server: ServerProcess; url: string }> {
    const child = fork(__filename, [], {
      env: { ...process.env, BENCH_ROLE: role },
      execArgv: ["--expose-gc", ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${role}.cpuprofile`] : []), ...SCRIPT_FLAGS],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const server = new ServerProcess(child);
    const ready = (await server.next()) as Extract<Reply, { type: "ready" }>;
    return { server, url: ready.url };
  }

  async memory(): Promise<Memory> {
    this.child.send({ type: "memory" } satisfies Request);
    return (await this.next()) as Memory;
  }

  async cpu(): Promise<number> {
    this.child.send({ type: "cpu" } satisfies Request);
    return ((await this.next()) as Extract<Reply, { type: "cpu" }>).ms;
  }

  async count(): Promise<number> {
    this.child.send({ type: "count" } satisfies Request);
    return ((await this.next()) as Extract<Reply, { type: "count" }>).value;
  }

  broadcast(payload: string): void {
    this.child.send({ type: "broadcast", payload } satisfies Request);
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ type: "stop" } satisfies Request);
    await exited;
  }

  private next(): Promise<Reply> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
}

/** How long the clients must have received nothing before a round is over (a HumanOps update may bring more than one message). */
const QUIET_MS = 300;

/**
 * Collects, per round, when each client received that round's first
 * message (the update the round caused), and how many messages reached the
 * clients in all. A round is over once every client has its first message
 * and then nothing has arrived for QUIET_MS, so a later message of the
 * round (a task's escrow funded just after it was posted) is never taken
 * for the next round's.
 */
class Arrivals {
  private round = -1;
  private startedAt = 0;
  private lastAt = 0;
  private received: number[] = [];
  private readonly roundOf = new Int32Array(SUBSCRIBERS).fill(-1);
  private done?: () => void;
  readonly latenciesMs: number[] = [];
  messages = 0;
  /** The messages client 0 received in the first round, in order. */
  readonly firstRound: string[] = [];

  begin(): Promise<void> {
    this.round += 1;
    this.received = [];
    this.startedAt = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`round ${this.round}: only ${this.received.length}/${SUBSCRIBERS} received`)), ROUND_TIMEOUT_MS);
      this.done = () => {
        clearTimeout(timer);
        const quiet = () => {
          const wait = this.lastAt + QUIET_MS - performance.now();
          if (wait > 0) setTimeout(quiet, wait);
          else resolve();
        };
        quiet();
      };
    });
  }

  arrived(client: number, payload: unknown): void {
    this.lastAt = performance.now();
    this.messages += 1;
    if (client === 0 && this.round === 0) this.firstRound.push(JSON.stringify(payload));
    if (this.roundOf[client] === this.round) return;
    this.roundOf[client] = this.round;
    this.received.push(this.lastAt - this.startedAt);
    if (this.received.length === SUBSCRIBERS) {
      this.latenciesMs.push(...this.received);
      this.done?.();
    }
  }
}

async function inBatches(count: number, open: (index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, (_, i) => open(start + i)));
  }
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ROUND_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function perConnection(before: Memory, after: Memory): Memory {
  return { heapUsed: (after.heapUsed - before.heapUsed) / SUBSCRIBERS, rss: (after.rss - before.rss) / SUBSCRIBERS };
}

const graphqlRequest = (url: string, query: string, variables: Record<string, unknown>, apiKey?: string) => request(`${url}/graphql`, query, variables, apiKey);

const POST_TASK = `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`;

function taskInput(round: number): Record<string, unknown> {
  return {
    title: `Benchmark task ${round}`,
    description: "Photograph the storefront.",
    taskType: "PHOTO",
    location: { lat: 30.2672, lng: -97.7431 },
    rewardUsd: 1,
    deadline: new Date(Date.now() + 86_400_000).toISOString(),
    testScenario: "MANUAL",
  };
}

const SUBSCRIPTION = "subscription { tasksUpdated { eventId taskId status previousStatus occurredAt } }";

/** The same graphql-ws client for either server: each connects, subscribes, and counts the messages it receives. */
async function subscribeClients(server: ServerProcess, url: string, connectionParams: Record<string, unknown>, arrivals: Arrivals): Promise<{ clients: Client[]; connectMs: number; connectCpuMs: number }> {
  const clients: Client[] = [];
  const connectCpu = await server.cpu();
  const connectStarted = performance.now();
  await inBatches(SUBSCRIBERS, async (index) => {
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0 });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.on("connected", () => resolve());
      client.subscribe(
        { query: SUBSCRIPTION },
        {
          next: (payload) => arrivals.arrived(index, payload),
          error: reject,
          complete: () => undefined,
        },
      );
    });
  });
  await until("every subscription to start", async () => (await server.count()) === SUBSCRIBERS);
  const connectMs = performance.now() - connectStarted;
  const connectCpuMs = (await server.cpu()) - connectCpu;
  return { clients, connectMs, connectCpuMs };
}

/** The HumanOps phase, and the payloads of the `next` messages a round brought each subscriber (the bare server sends the same). */
async function graphqlWsPhase(): Promise<{ result: PhaseResult; payloads: string[] }> {
  const { server, url } = await ServerProcess.start("humanops");
  const { registerAgent } = await graphqlRequest(url, `mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey } }`, {
    input: { name: "bench", email: `bench-${Date.now()}@agents.test` },
  });
  const apiKey: string = registerAgent.apiKey;
  const before = await server.memory();
  const arrivals = new Arrivals();
  const { clients, connectMs, connectCpuMs } = await subscribeClients(server, `${url.replace("http", "ws")}/graphql`, { "x-api-key": apiKey }, arrivals);
  const after = await server.memory();
  const fanOutCpu = await server.cpu();
  for (let round = 0; round < ROUNDS; round += 1) {
    const received = arrivals.begin();
    await graphqlRequest(url, POST_TASK, { input: taskInput(round) }, apiKey);
    await received;
  }
  const fanOutCpuMs = (await server.cpu()) - fanOutCpu;
  await Promise.all(clients.map((client) => client.dispose()));
  await server.stop();
  return {
    result: { name: "graphql-ws (HumanOps)", latenciesMs: arrivals.latenciesMs, messages: arrivals.messages, perConnection: perConnection(before, after), connectMs, connectCpuMs, fanOutCpuMs },
    payloads: arrivals.firstRound,
  };
}

async function bareWsPhase(payloads: string[]): Promise<PhaseResult> {
  const { server, url } = await ServerProcess.start("ws");
  const before = await server.memory();
  const arrivals = new Arrivals();
  const { clients, connectMs, connectCpuMs } = await subscribeClients(server, url, {}, arrivals);
  const after = await server.memory();
  const fanOutCpu = await server.cpu();
  for (let round = 0; round < ROUNDS; round += 1) {
    const received = arrivals.begin();
    for (const payload of payloads) server.broadcast(payload);
    await received;
  }
  const fanOutCpuMs = (await server.cpu()) - fanOutCpu;
  await Promise.all(clients.map((client) => client.dispose()));
  await server.stop();
  return { name: "bare ws broadcast", latenciesMs: arrivals.latenciesMs, messages: arrivals.messages, perConnection: perConnection(before, after), connectMs, connectCpuMs, fanOutCpuMs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(result: PhaseResult): { p50: number; p99: number; max: number } {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

function report(results: [PhaseResult, PhaseResult], payloads: string[]): void {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const ms = (value: number) => value.toFixed(1).padStart(8);
  const [gql, ws] = results.map(summarise);
  console.log(`\nSubscription fan-out: ${SUBSCRIBERS} subscribers on one server process, ${ROUNDS} updates each;`);
  console.log(
    `both through the same graphql-ws client; an update (postTask) brings each subscriber ${payloads.length} messages, the bare server broadcasts the same ${payloads.length} per round (payloads of ${payloads.map((payload) => Buffer.byteLength(payload)).join(", ")} bytes around the subscriber's id); latency is to a round's first message\n`,
  );
  const us = (cpuMs: number, count: number) => `${((cpuMs * 1000) / count).toFixed(1)} µs`.padStart(10);
  console.log(`${"".padEnd(26)}  p50 ms    p99 ms    max ms   heap/conn   rss/conn   connect+subscribe   server CPU: per connection, per delivery`);
  results.forEach((result, i) => {
    const s = [gql, ws][i];
    console.log(
      `${result.name.padEnd(26)}${ms(s.p50)}  ${ms(s.p99)}  ${ms(s.max)}  ${kb(result.perConnection.heapUsed).padStart(10)} ${kb(result.perConnection.rss).padStart(10)}   ${`${(result.connectMs / 1000).toFixed(1)} s`.padStart(17)}   ${us(result.connectCpuMs, SUBSCRIBERS)} ${us(result.fanOutCpuMs, result.messages)}`,
    );
  });
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`.padStart(8);
  const [g, w] = results;
  console.log(
    `${"ratio graphql-ws / ws".padEnd(26)}${ratio(gql.p50, ws.p50)}  ${ratio(gql.p99, ws.p99)}  ${ratio(gql.max, ws.max)}  ${ratio(g.perConnection.heapUsed, w.perConnection.heapUsed).padStart(10)} ${ratio(g.perConnection.rss, w.perConnection.rss).padStart(10)}   ${ratio(g.connectMs, w.connectMs).padStart(17)}   ${ratio(g.connectCpuMs, w.connectCpuMs).padStart(10)} ${ratio(g.fanOutCpuMs / g.messages, w.fanOutCpuMs / w.messages).padStart(10)}`,
  );
  reportFigures({
    subscribers: SUBSCRIBERS,
    p99: { graphqlWs: gql.p99, ws: ws.p99, ratio: gql.p99 / ws.p99 },
    heapPerConnection: { graphqlWs: results[0].perConnection.heapUsed, ws: results[1].perConnection.heapUsed },
    connect: { graphqlWs: results[0].connectMs, ws: results[1].connectMs, ratio: results[0].connectMs / results[1].connectMs },
    serverCpuMs: { connect: { graphqlWs: results[0].connectCpuMs, ws: results[1].connectCpuMs }, fanOut: { graphqlWs: results[0].fanOutCpuMs, ws: results[1].fanOutCpuMs } },
  });
  console.log("\nLatency: from causing the update to each client holding it (graphql-ws: postTask commit, relay, per-subscriber execution, send).");
}

async function main(): Promise<void> {
  const role = process.env.BENCH_ROLE as Role | undefined;
  if (role) return serve(role);
  const timer = setTimeout(() => {
    console.error(`benchmark did not finish within ${RUN_TIMEOUT_MS / 1000} s`);
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  timer.unref();
  const gql = await graphqlWsPhase();
  const ws = await bareWsPhase(gql.payloads);
  report([gql.result, ws], gql.payloads);
  process.exit(0);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(message);
  if (/EMFILE|ENFILE/.test(message)) console.error(`out of file descriptors: raise the limit (ulimit -n ${SUBSCRIBERS * 2 + 1000}) or lower BENCH_SUBSCRIBERS`);
  process.exit(1);
});
