/**
 * Soak: two HumanOps replicas on PostgreSQL + Redis settling on one shared
 * local chain (a chain node started here, as the replicas test does), under
 * mixed traffic from a load generator in a process of its own
 * (bench/soak-load.ts): posts, reads, graphql-ws subscriptions, proof
 * uploads over REST multipart, and webhooks to a local receiver. Everything
 * listens on 127.0.0.1. Reports throughput, p50/p99, errors (a non-4xx
 * failure is an error; there must be none), each replica's memory at start
 * and end with its trend, and whether the books equal the chain at the end.
 *
 *   npm run soak                                   # 3 minutes
 *   SOAK_MINUTES=30 npm run soak
 *   SOAK_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test SOAK_REDIS_URL=redis://127.0.0.1:6379 SOAK_CONCURRENCY=6 npm run soak
 *   npm run soak -- retention                      # 10,000 settled tasks: pruned tables stay flat (bench/soak-retention.ts)
 *
 * Exits non-zero if there was an error or the books differ from the chain.
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { testDatabases } from "../test/support/databases";
import { spawnServer, type ChildServer } from "../test/live/support/child-server";
import { ownedChain } from "../test/chain/support/chain";
import { initORM } from "../server/db/orm";
import { Chain } from "../server/chain/chains";
import { Mode } from "../server/common/mode";
import { compareBooksAtRest } from "../server/escrow/books";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 3);
const POSTGRES = process.env.SOAK_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const REDIS = process.env.SOAK_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const MEMORY_EVERY_MS = Math.max(5_000, Math.round((MINUTES * 60_000) / 30));
const MB = 1024 * 1024;

interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
}

/** A replica's memory samples taken while the load ran (the first one as it began). */
function memoryOf(server: ChildServer, from: number, to: number): MemorySample[] {
  const samples = server.output.filter((line) => line.startsWith('{"soakMemory"')).map((line) => JSON.parse(line).soakMemory as MemorySample);
  const before = samples.filter((s) => s.at <= from).at(-1);
  return [...(before ? [before] : []), ...samples.filter((s) => s.at > from && s.at <= to)];
}

/** Least-squares slope in MB per minute over the second half of the samples (after warm-up). */
function trend(samples: MemorySample[], field: "rss" | "heapUsed"): number {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 2) return 0;
  const xs = half.map((s) => s.at / 60_000);
  const ys = half.map((s) => s[field] / MB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den ? num / den : 0;
}

async function main(): Promise<void> {
  process.env.TEST_POSTGRES_URL = POSTGRES;
  const receiver = { deliveries: 0 };
  const hooks = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      receiver.deliveries += 1;
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
  const chain = await ownedChain({ funderOwnsUsdc: true });
  const created = await testDatabases().find((db) => db.name === "postgresql")!.create();
  const databaseUrl = (created.database as { url: string }).url;
  await (await initORM(created.database)).close();
  const env = {
    ...chain.env("TEST_CHAIN_"),
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS,
    LOG_LEVEL: "info",
    SOAK_MEMORY_MS: String(MEMORY_EVERY_MS),
    NODE_OPTIONS: `--require ${path.join(__dirname, "soak-memory.js")}`,
  };
  const replicas = await Promise.all([spawnServer(env), spawnServer(env)]);
  let failed = false;
  try {
    console.log(`soak: ${MINUTES} min, replicas ${replicas.map((r) => r.url).join(" ")}, database ${new URL(databaseUrl).pathname.slice(1)}`);
    const loadStarted = Date.now();
    const load = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "soak-load.ts")], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, SOAK_URLS: replicas.map((r) => r.url).join(","), SOAK_RECEIVER: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`, SOAK_MINUTES: String(MINUTES) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    load.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => load.once("exit", resolve));
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    const loadEnded = Date.now();
    const result = JSON.parse(out.split("\n").find((line) => line.startsWith('{"soakLoad"'))!).soakLoad;

    // The books at the end, compared the way the reconciler does, once nothing is in flight.
    const orm = await initORM(created.database, { migrate: false });
    const settled = new Chain({ mode: Mode.TEST, chainId: 31337, rpc: chain.rpc, deployment: chain.deployment, funder: chain.funder, guardian: chain.guardian, treasury: chain.treasury, confirmations: 1, pollMs: 100, maxFeePerGas: 10n ** 10n, mintable: true });
    let books: Awaited<ReturnType<typeof compareBooksAtRest>> = null;
    try {
      for (const until = Date.now() + 120_000; Date.now() < until && !books; ) {
        const atRest = await compareBooksAtRest(orm.em.fork(), settled, { scanChain: true });
        books = atRest && atRest.activity.open === 0 ? atRest : null;
        if (!books) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await orm.close();
    }
    const booksEqual = !!books && Object.values(books.books).every((line) => line.ledger === line.chain);

    console.log(`\nthroughput   ${result.perSecond} requests/s (${result.requests} in ${result.seconds.toFixed(0)} s, ${result.tasksPosted} tasks posted over GraphQL)`);
    console.log(`latency      p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`);
    console.log(`errors       ${result.errors} (non-4xx); 4xx answers ${result.status4xx}${result.firstErrors.length ? `\n             ${result.firstErrors.join("\n             ")}` : ""}`);
    console.log(`live         ${result.subscriptionEvents} subscription events${result.subscriptionErrors.length ? `, errors: ${result.subscriptionErrors.join("; ")}` : ""}; ${receiver.deliveries} webhook deliveries received`);
    for (const [op, figures] of Object.entries(result.ops as Record<string, { count: number; p50Ms: number; p99Ms: number }>)) {
      console.log(`  ${op.padEnd(22)} ${String(figures.count).padStart(7)}  p50 ${String(figures.p50Ms).padStart(5)} ms  p99 ${String(figures.p99Ms).padStart(5)} ms`);
    }
    replicas.forEach((replica, i) => {
      const samples = memoryOf(replica, loadStarted, loadEnded);
      const [first, last] = [samples[0], samples.at(-1)!];
      const mb = (bytes: number) => (bytes / MB).toFixed(0);
      console.log(
        `replica ${i + 1}    RSS ${mb(first.rss)} → ${mb(last.rss)} MB, heap ${mb(first.heapUsed)} → ${mb(last.heapUsed)} MB; trend over the second half: RSS ${trend(samples, "rss").toFixed(2)} MB/min, heap ${trend(samples, "heapUsed").toFixed(2)} MB/min (${samples.length} samples)`,
      );
    });
    console.log(`books        ${booksEqual ? "equal to the chain" : "NOT equal to the chain"}`);
    if (books) for (const [name, line] of Object.entries(books.books)) console.log(`  ${name.padEnd(22)} ledger ${line.ledger}  chain ${line.chain}`);
    failed = result.errors > 0 || !booksEqual;
  } finally {
    await Promise.all(
      replicas.map(async (replica) => {
        const exited = new Promise((resolve) => replica.child.once("exit", resolve));
        replica.child.kill("SIGTERM");
        await exited;
      }),
    );
    await created.drop();
    await chain.stop();
    hooks.close();
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv.includes("retention")) {
  void import("./soak-retention");
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
