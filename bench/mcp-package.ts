/**
 * The stdio MCP package (packages/mcp-server) as an MCP host meets it: what
 * it takes to build and install, and how long it takes to start.
 *
 *   npm run bench -- mcp-package                          # this checkout
 *   BENCH_MCP_BASELINE=/path/to/other/checkout npm run bench -- mcp-package
 *   BENCH_MCP_CHECKOUT=/path/to/checkout npm run bench -- mcp-package   # another checkout alone
 *
 * For each checkout (its packages/mcp-server/dist built with
 * `npm run build:mcp`): the server files tsc compiles into the package, the
 * files and bytes of dist/, the npm packages loaded at run time and their
 * size on disk, and the start time: from spawning `node dist/index.js` to its
 * answer to `tools/list` after `initialize`, over stdio, median of
 * BENCH_RUNS runs (default 15). The baseline of the start time, measured in
 * the same run, is a bare `node` that answers the same two requests with
 * canned replies: what any stdio server written in Node costs to start. With
 * BENCH_MCP_BASELINE, both checkouts' runs alternate, so load on the machine
 * hits both alike.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { report } from "./support/report";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ROOT = path.resolve(__dirname, "..");

/** Written into every spawned process: at exit, the files it loaded go to $MCP_BENCH_LOADED. */
const TRACE_HOOK = `process.on("exit", () => require("node:fs").writeFileSync(process.env.MCP_BENCH_LOADED, JSON.stringify(Object.keys(require.cache))));\n`;

/** A stdio "server" that answers initialize and tools/list with canned replies: the cost of starting node itself. */
const BARE_NODE = `let buffer = "";
process.stdin.on("data", (chunk) => {
  buffer += chunk;
  let newline;
  while ((newline = buffer.indexOf("\\n")) >= 0) {
    const message = JSON.parse(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    if (message.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: {} }) + "\\n");
  }
});
`;

interface Checkout {
  label: string;
  root: string;
  entry: string;
}

interface PackageFigures {
  serverFilesCompiled: number;
  serverFiles: number;
  distFiles: number;
  distBytes: number;
  packagesLoaded: string[];
  packagesBytes: number;
  filesLoaded: number;
  loadedBytes: number;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

const bytesOf = (files: string[]) => files.reduce((sum, file) => sum + fs.statSync(file).size, 0);

/** The package a file in node_modules belongs to ("@scope/name" or "name"), outermost install. */
function packageOf(file: string): { name: string; dir: string } | undefined {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.indexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(path.sep);
  const name = rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  return { name, dir: file.slice(0, at + marker.length) + name };
}

/** One start: spawn, initialize, tools/list; resolves with the milliseconds to the tools/list answer. */
function startOnce(command: string[], env: Record<string, string>): Promise<{ ms: number; tools: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, command, { env: { PATH: process.env.PATH ?? "", ...env }, cwd: os.tmpdir(), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) reject(new Error(`${command.join(" ")} exited with ${code}: ${stderr}`));
    });
    let ms = 0;
    let tools = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      let newline: number;
      while ((newline = out.indexOf("\n")) >= 0) {
        const message = JSON.parse(out.slice(0, newline)) as { id?: number; result?: { tools?: unknown[] } };
        out = out.slice(newline + 1);
        if (message.id === 1) {
          send({ jsonrpc: "2.0", method: "notifications/initialized" });
          send({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
        } else if (message.id === 2) {
          ms = performance.now() - started;
          tools = message.result?.tools?.length ?? 0;
          child.stdin.end();
        }
      }
    });
    child.on("close", () => (ms ? resolve({ ms, tools }) : reject(new Error(`no tools/list answer from ${command.join(" ")}: ${stderr}`))));
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "humanops-bench", version: "1.0.0" } },
    });
  });
}

const STDIO_ENV = { HUMANOPS_API_URL: "https://api.humanops.io", HUMANOPS_LOG_LEVEL: "silent" };

async function measurePackage(checkout: Checkout, hook: string, loadedList: string): Promise<PackageFigures> {
  const tsconfig = path.join(checkout.root, "packages", "mcp-server", "tsconfig.json");
  const listed = execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", tsconfig, "--listFilesOnly"], { cwd: checkout.root, encoding: "utf8" })
    .split("\n")
    .map((line) => path.resolve(line.trim()));
  const serverDir = fs.realpathSync(path.join(checkout.root, "server")) + path.sep;
  const serverFiles = walk(serverDir).filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
  const dist = walk(path.join(checkout.root, "packages", "mcp-server", "dist")).filter((file) => !file.endsWith(".tsbuildinfo"));
  return {
    serverFilesCompiled: listed.filter((file) => file.startsWith(serverDir) || file.startsWith(path.join(checkout.root, "server") + path.sep)).length,
    serverFiles: serverFiles.length,
    distFiles: dist.length,
    distBytes: bytesOf(dist),
    ...(await loadedPackages(checkout, hook, loadedList)),
  };
}

/** The npm packages a start loads (the files in require.cache when the process exits). */
async function loadedPackages(checkout: Checkout, hook: string, loadedList: string) {
  await startOnce(["--require", hook, checkout.entry], { ...STDIO_ENV, MCP_BENCH_LOADED: loadedList });
  const loaded = JSON.parse(fs.readFileSync(loadedList, "utf8")) as string[];
  fs.rmSync(loadedList, { force: true });
  const packages = new Map<string, string>();
  for (const file of loaded) {
    const pkg = packageOf(file);
    if (pkg && !packages.has(pkg.name)) packages.set(pkg.name, pkg.dir);
  }
  const fromNodeModules = loaded.filter((file) => packageOf(file));
  return {
    packagesLoaded: [...packages.keys()].sort(),
    packagesBytes: [...packages.values()].reduce((sum, dir) => sum + bytesOf(walk(dir)), 0),
    filesLoaded: fromNodeModules.length,
    loadedBytes: bytesOf(fromNodeModules),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const root = path.resolve(process.env.BENCH_MCP_CHECKOUT ?? ROOT);
  const checkouts: Checkout[] = [{ label: `this checkout ${root}`, root, entry: path.join(root, "packages", "mcp-server", "dist", "index.js") }];
  const baselineRoot = process.env.BENCH_MCP_BASELINE;
  if (baselineRoot) {
    const baseline = path.resolve(baselineRoot);
    checkouts.unshift({ label: `baseline ${baseline}`, root: baseline, entry: path.join(baseline, "packages", "mcp-server", "dist", "index.js") });
  }
  for (const checkout of checkouts) {
    if (!fs.existsSync(checkout.entry)) throw new Error(`${checkout.entry} does not exist: run npm run build:mcp in ${checkout.root}`);
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-bench-"));
  const hook = path.join(scratch, "trace.js");
  const bare = path.join(scratch, "bare.js");
  fs.writeFileSync(hook, TRACE_HOOK);
  fs.writeFileSync(bare, BARE_NODE);
  try {
    const figures: Array<PackageFigures & { startMs: number[]; tools: number }> = [];
    for (const checkout of checkouts) {
      figures.push({ ...(await measurePackage(checkout, hook, path.join(scratch, "loaded.json"))), startMs: [], tools: 0 });
    }
    const bareMs: number[] = [];
    // Warm-up: the first start reads every file from disk; the runs measure a warm file cache, as a host's restarts meet it.
    for (const checkout of checkouts) await startOnce([checkout.entry], STDIO_ENV);
    await startOnce([bare], {});
    for (let run = 0; run < RUNS; run++) {
      bareMs.push((await startOnce([bare], {})).ms);
      for (const [i, checkout] of checkouts.entries()) {
        const { ms, tools } = await startOnce([checkout.entry], STDIO_ENV);
        figures[i].startMs.push(ms);
        figures[i].tools = tools;
      }
    }
    const bareMedian = median(bareMs);
    console.log(`HumanOps stdio MCP package: Node ${process.version}, ${os.cpus().length} cores, ${RUNS} starts each, ${new Date().toISOString()}`);
    console.log(`bare node answering initialize + tools/list (baseline): ${bareMedian.toFixed(0)} ms median`);
    for (const [i, checkout] of checkouts.entries()) {
      const f = figures[i];
      const start = median(f.startMs);
      console.log(`\n${checkout.label}`);
      console.log(`  server files compiled into the package: ${f.serverFilesCompiled} of ${f.serverFiles}`);
      console.log(`  dist: ${f.distFiles} files, ${kb(f.distBytes)}`);
      console.log(`  npm packages loaded at start: ${f.packagesLoaded.length} (${mb(f.packagesBytes)} on disk; ${f.filesLoaded} files, ${mb(f.loadedBytes)} read)`);
      console.log(`    ${f.packagesLoaded.join(", ")}`);
      console.log(`  start to tools/list answered (${f.tools} tools): ${start.toFixed(0)} ms median, ${(start / bareMedian).toFixed(2)}x bare node`);
    }
    if (figures.length === 2) {
      const [before, after] = figures;
      console.log(`\nthis checkout vs baseline: start ${(median(after.startMs) / median(before.startMs)).toFixed(2)}x, dist ${(after.distBytes / before.distBytes).toFixed(2)}x, packages loaded ${after.packagesLoaded.length} vs ${before.packagesLoaded.length}, their size ${(after.packagesBytes / before.packagesBytes).toFixed(2)}x`);
    }
    report({
      bareNodeMs: bareMedian,
      checkouts: figures.map((f, i) => ({ label: checkouts[i].label, ...f, startMedianMs: median(f.startMs), startMs: undefined })),
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
