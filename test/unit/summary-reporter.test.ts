import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";

/**
 * The suite's reporter (test/support/summary-reporter.js) ends every run with
 * the one line CI reads, "N passed, N failed", in parallel mode too: failing
 * hooks count, and a file whose worker process died or that failed to load
 * counts as failed, never dropped. Runs mocha itself over small fixtures.
 */
const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "support", "reporter-fixtures");
const REPORTER = path.join(ROOT, "test", "support", "summary-reporter.js");
const MOCHA = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");

async function mocha(args: string[], files: string[], fileTimes?: string): Promise<{ code: number; lines: string[] }> {
  const fixtureFiles = files.map((file) => path.join(FIXTURES, file));
  // Never the times file of the run this test is part of: the fixture's reporter would read and remove it.
  const env: NodeJS.ProcessEnv = { ...process.env, MOCHA_FILE_TIMES: fileTimes };
  if (!fileTimes) delete env.MOCHA_FILE_TIMES;
  const result = await promisify(execFile)(process.execPath, [MOCHA, "--no-config", "--reporter", REPORTER, ...args, ...fixtureFiles], { cwd: ROOT, env }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (err: Error & { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  return { code: result.code, lines: result.stdout.trimEnd().split("\n") };
}

describe("the suite's summary line (test/support/summary-reporter.js)", function () {
  this.timeout(60_000);

  it("counts passes, failed tests, failed hooks and skips, and ends with the summary, serially", async () => {
    const { code, lines } = await mocha(["--no-parallel"], ["passing.js", "failing-hook.js"]);
    expect(lines.at(-1)).to.equal("3 passed, 2 failed, 1 skipped");
    expect(code).to.equal(2);
  });

  it("in parallel, counts a file whose worker died and one that failed to load as failed, naming them, and ends with the summary", async () => {
    const { code, lines } = await mocha(["--parallel", "--jobs", "2"], ["passing.js", "failing-hook.js", "crashing-worker.js", "throwing-at-load.js"]);
    expect(lines.at(-1)).to.equal("3 passed, 4 failed, 1 skipped");
    expect(lines.filter((line) => /^\d+ passed, \d+ failed/.test(line)), "one summary line").to.have.length(1);
    const uncaught = lines.filter((line) => /^ {2}\d+\) Uncaught error outside test suite/.test(line)).join("\n");
    expect(uncaught).to.contain("(in test/support/reporter-fixtures/crashing-worker.js)").and.contain("(in test/support/reporter-fixtures/throwing-at-load.js)");
    expect(code).to.equal(4);
  });

  it("in a whole run, names the files that took longest, each with its wall time, before the summary", async () => {
    const fileTimes = path.join(os.tmpdir(), `humanops-reporter-test-${process.pid}.jsonl`);
    const hooks = ["--require", "ts-node/register", "--require", path.join(ROOT, "test", "support", "hooks.ts")];
    const { lines } = await mocha(["--parallel", "--jobs", "2", ...hooks], ["passing.js", "failing-hook.js"], fileTimes);
    const heading = lines.findIndex((line) => /^2 files, \d+ s of file time in all; the slowest:$/.test(line));
    expect(heading, lines.join("\n")).to.be.greaterThan(-1);
    const listed = lines.slice(heading + 1, heading + 3);
    for (const file of ["passing.js", "failing-hook.js"]) {
      expect(listed.some((line) => new RegExp(`^ +\\d+\\.\\d s  test/support/reporter-fixtures/${file}$`).test(line)), `${file} in\n${listed.join("\n")}`).to.equal(true);
    }
    expect(lines.at(-1)).to.equal("3 passed, 2 failed, 1 skipped");
    expect(fs.existsSync(fileTimes), "the times file is removed once read").to.equal(false);
  });
});
