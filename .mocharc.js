"use strict";
// One mocha configuration for every suite: contracts, server and end to end.
//
// The whole suite (`mocha` with no files named) runs its files in parallel
// worker processes, MOCHA_JOBS at a time (default: one per core; many tests
// are CPU-bound, a chain, photos, a browser, and a test slowed past its
// timeout fails). Each server a test starts has a port of its own and a fresh
// database (a PostgreSQL database per server, Redis channels and keys named
// by that database's deployment id), so files never share state. Files named
// on the command line run serially in this process, as before; `--no-parallel`
// runs the whole suite serially.
const os = require("node:os");
const path = require("node:path");
const fs = require("node:fs");

process.env.TS_NODE_TRANSPILE_ONLY ??= "true";
process.env.TS_NODE_FILES ??= "true";

const namedFiles = process.argv.slice(2).some((arg) => arg.endsWith(".ts"));

// Where each file's wall time goes (test/support/hooks.ts); the reporter names the slowest files at the end of a whole run.
if (!namedFiles) process.env.MOCHA_FILE_TIMES ??= path.join(os.tmpdir(), `humanops-file-times-${process.pid}.jsonl`);

/**
 * The slowest files, slowest first (from a whole run's file times, the summary reporter's list): a worker
 * takes the next file when it is free, so starting the long ones first keeps
 * one of them from being left to run alone at the end. The rest follow by name.
 */
const SLOWEST_FIRST = [
  "test/chain/one-chain.test.ts",
  "test/chain/crash.test.ts",
  "test/web/web-app.test.ts",
  "test/live/webhooks.test.ts",
  "test/chain/settlement.test.ts",
  "test/photos/rehash.test.ts",
  "test/mcp/stdio.test.ts",
  "test/live/subscriptions.test.ts",
  "test/chain/ways-out.test.ts",
  "test/guardian/evaluation.test.ts",
  "test/photos/move.test.ts",
  "test/server/operations.test.ts",
  "test/docs/readme.test.ts",
  "test/chain/outbox.test.ts",
  "test/chain/reconciliation.test.ts",
  "test/guardian/capture-code.test.ts",
  "test/chain/live.test.ts",
  "test/chain/restart.test.ts",
  "test/chain/basescan-verify.test.ts",
  "test/kyc/kyc.test.ts",
  "test/chain/deposits.test.ts",
  "test/rest/openapi.test.ts",
  "test/sessions/sessions.test.ts",
  "test/contracts/TaskEscrow.invariant.test.ts",
  "test/contracts/TaskEscrow.test.ts",
];

function orderedSpec() {
  const files = fs
    .readdirSync(path.join(__dirname, "test"), { recursive: true })
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => path.posix.join("test", file.split(path.sep).join("/")));
  const rank = (file) => {
    const index = SLOWEST_FIRST.indexOf(file);
    return index === -1 ? SLOWEST_FIRST.length : index;
  };
  return files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const jobs = Number(process.env.MOCHA_JOBS) || Math.max(2, os.availableParallelism?.() ?? os.cpus().length);

module.exports = {
  require: ["ts-node/register", "reflect-metadata", "test/support/hooks.ts"],
  extension: ["ts"],
  // Files named on the command line replace the default set instead of adding to it.
  spec: namedFiles ? [] : orderedSpec(),
  parallel: !namedFiles,
  jobs,
  reporter: "test/support/summary-reporter.js",
  timeout: 60_000,
  exit: true,
};
