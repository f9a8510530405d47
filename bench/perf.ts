/**
 * Every figure of the performance table in one run: `npm run bench -- perf`.
 * Each benchmark runs in its own process (its memory, CPU time and event
 * loop are its own) and reports its figures back; each figure is printed
 * beside the baseline measured in the same run and the target the README
 * states.
 *
 *   npm run bench -- perf                                   # all of them
 *   BENCH_ONLY=graphql,idle npm run bench -- perf           # some
 *   BENCH_REPEATS=3 BENCH_SECONDS=5 BENCH_TASKS=200 BENCH_SUBSCRIBERS=10000 npm run bench -- perf
 *
 * Defaults: 3 rounds of 3 s per HTTP scenario (ratios are the median of the
 * rounds), 100 settled tasks, 10,000 subscribers (raise `ulimit -n`).
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { REPORT_PREFIX } from "./support/report";
import { SCRIPT_FLAGS, scriptFile } from "./support/runtime";

const BENCHMARKS = ["graphql", "settlement", "idle", "subscriptions"] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim()) ?? [...BENCHMARKS];
const unknown = only.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length) {
  console.error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(", ")}; choose from ${BENCHMARKS.join(", ")}`);
  process.exit(2);
}

const DEFAULTS: Record<string, string> = { BENCH_REPEATS: "3", BENCH_SECONDS: "3", BENCH_TASKS: "100", BENCH_CONCURRENCY: "20", BENCH_TRANSFERS: "300", BENCH_SUBSCRIBERS: "10000" };

/** Runs bench/<name>.ts in a child process, passing its output through, and resolves with the figures it reported. */
function run(name: Benchmark): Promise<Record<string, any> | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SCRIPT_FLAGS, scriptFile(__dirname, name)], {
      env: { ...DEFAULTS, ...process.env, BENCH_REPORT: "1", TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let figures: Record<string, any> | undefined;
    let pending = "";
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith(REPORT_PREFIX)) figures = JSON.parse(line.slice(REPORT_PREFIX.length));
        else console.log(`  ${line}`);
      }
    });
    child.on("exit", (code) => {
      if (code !== 0) console.error(`bench ${name} exited with ${code}`);
      resolve(figures);
    });
  });
}

async function main(): Promise<void> {
  const figures: Partial<Record<Benchmark, Record<string, any>>> = {};
  for (const name of BENCHMARKS) {
    if (!only.includes(name)) continue;
    console.log(`\n== ${name} ==`);
    figures[name] = await run(name);
  }

  const rows: string[][] = [];
  const x = (value: number, digits = 3) => `${value.toFixed(digits)}×`;
  const rate = (value: number, unit: string) => `${Math.round(value).toLocaleString("en-US")} ${unit}`;
  const g = figures.graphql;
  if (g) {
    const bare = rate(g.bareRequestsPerSecond, "req/s");
    rows.push(["GraphQL `task(id)` with an API key", `${x(g.taskById.ratio)} (${rate(g.taskById.requestsPerSecond, "req/s")})`, `bare \`node:http\` ${bare}`, "≥ 0.33×"]);
    rows.push(["REST `GET /api/v1/tasks/:id`", `${x(g.restGet.ratio)} (${rate(g.restGet.requestsPerSecond, "req/s")})`, `bare ${bare}`, "≥ 0.25×"]);
    rows.push(["`{__typename}` without a key", `${x(g.typename.ratio)} (${rate(g.typename.requestsPerSecond, "req/s")})`, `bare ${bare}`, "≥ 0.5×"]);
  }
  const s = figures.settlement;
  if (s) {
    rows.push(["settled tasks/s vs plain USDC transfers/s", `${s.ratio.toFixed(3)} (${s.tasksPerSecond.toFixed(1)} tasks/s)`, `${s.transfersPerSecond.toFixed(1)} transfers/s`, "≥ 0.09"]);
    rows.push(["SQL statements per settled task", s.statementsPerTask.toFixed(1), "", "< 50"]);
  }
  const sub = figures.subscriptions;
  if (sub) {
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    rows.push([`${sub.subscribers} graphql-ws subscribers: fan-out p99 vs bare ws`, `${x(sub.p99.ratio, 1)} (${sub.p99.graphqlWs.toFixed(0)} ms)`, `bare ws ${sub.p99.ws.toFixed(0)} ms`, "≤ 1.5×"]);
    rows.push([`${sub.subscribers} subscribers: heap per connection`, kb(sub.heapPerConnection.graphqlWs), `bare ws ${kb(sub.heapPerConnection.ws)}`, "≤ 8 KB"]);
    rows.push([`${sub.subscribers} subscribers: connect + subscribe time vs bare`, `${x(sub.connect.ratio, 1)} (${(sub.connect.graphqlWs / 1000).toFixed(1)} s)`, `bare ws ${(sub.connect.ws / 1000).toFixed(1)} s`, "≤ 2×"]);
  }
  const idle = figures.idle;
  if (idle) rows.push(["idle server CPU (background polling)", `${idle.cpuMsPerSecond.toFixed(1)} ms per s (${idle.statementsPerSecond.toFixed(1)} SQL/s)`, "", "≤ 10 ms per s"]);

  console.log(`\nHumanOps performance, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? "CPU"}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}\n`);
  console.log("| measure | HumanOps | baseline (same run) | target |\n|---|---:|---:|---:|");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  const missing = only.filter((name) => !figures[name as Benchmark]);
  if (missing.length) {
    console.error(`\nno figures from: ${missing.join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
