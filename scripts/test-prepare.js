"use strict";
/**
 * What `npm test` runs before mocha: the typecheck (tsc --noEmit over the
 * server, the tests and the scripts) and the build of what the tests run
 * (the contracts' artifacts, and dist/server, which server processes the
 * tests start run from: test/live/support/child-server.ts, and the stdio
 * MCP server the MCP suites spawn: test/mcp/support/built-server.ts). Both
 * are incremental, so a run after a small change redoes little. The two do not
 * depend on each other, and each is one busy core for most of a minute on a
 * clean clone, so they run side by side; a failure of either fails `npm
 * test`, after both have finished and printed what they had to say.
 */
const { spawn } = require("node:child_process");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");

function run(label, args) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
    child.once("error", (err) => resolve({ label, ok: false, detail: err.message }));
    child.once("exit", (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      resolve({ label, ok: code === 0, detail: code === 0 ? `${seconds} s` : `failed (${signal ?? `exit code ${code}`}) after ${seconds} s` });
    });
  });
}

async function main() {
  const results = await Promise.all([
    // Incremental: what it learnt is kept in dist/.build, so a run after a small change checks what that change touches.
    run("typecheck", [require.resolve("typescript/bin/tsc", { paths: [ROOT] }), "--noEmit", "-p", "tsconfig.json", "--incremental", "--tsBuildInfoFile", path.join("dist", ".build", "typecheck.tsbuildinfo")]),
    run("build contracts server mcp", [path.join(ROOT, "scripts", "build.js"), "contracts", "server", "mcp"]),
  ]);
  for (const { label, detail } of results) process.stderr.write(`test-prepare: ${label}: ${detail}\n`);
  process.exitCode = results.every((result) => result.ok) ? 0 : 1;
}

main();
