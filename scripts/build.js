"use strict";
/**
 * Builds what HumanOps runs from, one step at a time, and only the steps
 * whose inputs changed: `npm start` runs this before the server, so a start
 * with nothing changed costs one node start-up and a walk over file metadata.
 *
 * Each step lists its inputs (files, and folders filtered by extension) and
 * the outputs it must leave. A step is fresh when its outputs exist and the
 * fingerprint of its inputs (path, size and mtime of every file) equals the
 * one stamped in dist/.build/<step>.json by its last successful run; a fresh
 * step starts no process. A new step (the web app's build, say) is one more
 * entry in STEPS.
 *
 *   node scripts/build.js                 # every step that is stale (but bench, built when named)
 *   node scripts/build.js contracts       # only these steps (if stale)
 *   node scripts/build.js --force         # every step, stale or not
 */
const { execFileSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const STAMPS = path.join(ROOT, "dist", ".build");

/** What every compiled step also depends on: the installed packages and the shared compiler options. */
const DEPENDENCIES = ["package-lock.json", "tsconfig.json"];

const node = (script, ...args) => () => execFileSync(process.execPath, [require.resolve(script, { paths: [ROOT] }), ...args], { cwd: ROOT, stdio: "inherit" });

/** @type {Array<{ name: string; onlyWhenNamed?: boolean; inputs: string[]; extensions: string[]; exclude?: string[]; outputs: string[]; run: () => void }>} */
const STEPS = [
  {
    name: "server",
    inputs: ["server", "tsconfig.build.json", ...DEPENDENCIES],
    extensions: [".ts", ".json"],
    outputs: ["dist/server/index.js"],
    // Incremental (tsconfig.build.json's tsBuildInfoFile): a change recompiles what it touches.
    run: node("typescript/bin/tsc", "-p", "tsconfig.build.json"),
  },
  {
    // The benchmarks, compiled with the server into dist/ so they measure the JavaScript `npm start` runs.
    // Built only when named (`npm run bench` does): `npm start` has no use for them.
    name: "bench",
    onlyWhenNamed: true,
    inputs: ["server", "bench", "test/support", "tsconfig.bench.json", ...DEPENDENCIES],
    extensions: [".ts", ".json"],
    outputs: ["dist/bench/run.js"],
    run: node("typescript/bin/tsc", "-p", "tsconfig.bench.json"),
  },
  {
    name: "mcp",
    inputs: ["server", "packages/mcp-server/tsconfig.json", "packages/mcp-server/build.js", ...DEPENDENCIES],
    extensions: [".ts", ".json"],
    outputs: ["packages/mcp-server/dist/index.js"],
    run: () => require(path.join(ROOT, "packages/mcp-server/build.js")).build(),
  },
  {
    // The web app (web/): its GraphQL operations typed against schema.graphql (a mismatch fails here), the
    // TypeScript checked, then Vite bundles it into dist/web, which the server serves at /.
    name: "web",
    inputs: ["web", "scripts/graphql-types.cjs", "schema.graphql", "package-lock.json"],
    extensions: [".ts", ".tsx", ".cjs", ".css", ".html", ".graphql", ".json"],
    // Written by the step itself (only when its text changes): not an input.
    exclude: ["web/src/graphql/operations.generated.ts"],
    outputs: ["dist/web/index.html"],
    run: () => {
      node("./scripts/graphql-types.cjs", "web")();
      node("typescript/bin/tsc", "-p", "web/tsconfig.json")();
      node("./node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts")();
    },
  },
  {
    name: "contracts",
    inputs: ["contracts", "hardhat.config.ts", "package-lock.json"],
    extensions: [".sol"],
    outputs: ["artifacts/contracts/TaskEscrow.sol/TaskEscrow.json", "artifacts/contracts/test/TestUSDC.sol/TestUSDC.json"],
    run: node("hardhat/internal/cli/bootstrap.js", "compile", "--quiet"),
  },
];

/** What `node scripts/build.js` builds when no step is named (so what `npm start` builds). */
const DEFAULT_STEPS = STEPS.filter((step) => !step.onlyWhenNamed);

/** Every input file of a step: listed files as they are, folders walked for files with the step's extensions. */
function inputFiles(step, root) {
  const files = [];
  const excluded = new Set((step.exclude ?? []).map((file) => path.normalize(file)));
  const walk = (relative) => {
    if (excluded.has(path.normalize(relative))) return;
    const absolute = path.join(root, relative);
    let stat;
    try {
      stat = fs.statSync(absolute);
    } catch {
      files.push({ relative, missing: true });
      return;
    }
    if (!stat.isDirectory()) return void files.push({ relative, size: stat.size, mtimeMs: stat.mtimeMs });
    for (const entry of fs.readdirSync(absolute, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (step.extensions.some((extension) => entry.name.endsWith(extension))) walk(child);
    }
  };
  for (const input of step.inputs) walk(input);
  return files;
}

/** The fingerprint of a step's inputs: a hash over their paths, sizes and modification times (no file is read). */
function fingerprint(step, root) {
  const hash = createHash("sha256");
  for (const file of inputFiles(step, root)) hash.update(file.missing ? `${file.relative}\0missing\n` : `${file.relative}\0${file.size}\0${file.mtimeMs}\n`);
  return hash.digest("hex");
}

function readStamp(stamps, name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(stamps, `${name}.json`), "utf8")).fingerprint;
  } catch {
    return undefined;
  }
}

/**
 * Runs the stale steps among `steps`, in order, and stamps each that
 * succeeds. Returns the names of the steps it ran. A failing step throws and
 * leaves its old stamp, so it runs again next time.
 */
function build(steps, { root = ROOT, stamps = STAMPS, force = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const ran = [];
  for (const step of steps) {
    const current = fingerprint(step, root);
    const outputsExist = step.outputs.every((output) => fs.existsSync(path.join(root, output)));
    if (!force && outputsExist && readStamp(stamps, step.name) === current) continue;
    log(`build: ${step.name}`);
    step.run();
    fs.mkdirSync(stamps, { recursive: true });
    fs.writeFileSync(path.join(stamps, `${step.name}.json`), `${JSON.stringify({ fingerprint: current, builtAt: new Date().toISOString() })}\n`);
    ran.push(step.name);
  }
  return ran;
}

/** Whether the step named `name` would not run: its outputs exist and its inputs are what its last successful run saw. */
function isFresh(name, { steps = STEPS, root = ROOT, stamps = STAMPS } = {}) {
  const step = steps.find((candidate) => candidate.name === name);
  if (!step) throw new Error(`build: no step named ${name}`);
  return step.outputs.every((output) => fs.existsSync(path.join(root, output))) && readStamp(stamps, step.name) === fingerprint(step, root);
}

module.exports = { STEPS, DEFAULT_STEPS, build, fingerprint, isFresh };

if (require.main === module) {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const names = args.filter((arg) => arg !== "--force");
  const unknown = names.filter((name) => !STEPS.some((step) => step.name === name));
  if (unknown.length) {
    console.error(`build: no step named ${unknown.join(", ")} (steps: ${STEPS.map((step) => step.name).join(", ")})`);
    process.exit(2);
  }
  try {
    build(names.length ? STEPS.filter((step) => names.includes(step.name)) : DEFAULT_STEPS, { force });
  } catch (err) {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  }
}
