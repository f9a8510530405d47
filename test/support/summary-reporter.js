"use strict";
// mocha's spec reporter, plus the closing line CI reads: "N passed, N failed".
//
// The line is written from the reporter's done(), which mocha calls once, after
// the last event of the run, in serial and parallel mode alike (in parallel mode
// this reporter runs in the main process and hears each file's events when the
// file is done). Failures are counted from the events, so a failing hook counts
// as a failure, and so does a test file whose worker process died: mocha
// reports it as an "Uncaught error outside test suite" naming the file, and the
// file's own tests, never reported, are not counted as passed.
const fs = require("node:fs");
const path = require("node:path");
const Mocha = require("mocha");

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    this.counts = { passed: 0, failed: 0, skipped: 0 };
    this.ended = false;
    // A file that failed outside any test (its worker process died, or it threw while loading): say which.
    runner.prependListener(EVENT_TEST_FAIL, (test) => {
      if (test.file && !test.parent?.title && test.title === "Uncaught error outside test suite") {
        test.title = `${test.title} (in ${path.relative(process.cwd(), test.file)})`;
      }
    });
    runner.on(EVENT_TEST_PASS, () => this.counts.passed++);
    runner.on(EVENT_TEST_FAIL, () => this.counts.failed++);
    runner.on(EVENT_TEST_PENDING, () => this.counts.skipped++);
    runner.on(EVENT_RUN_END, () => (this.ended = true));
  }

  done(failures, exit) {
    this.printSlowestFiles();
    const { passed, skipped } = this.counts;
    // A run that ended before reporting its failures (it never reached the end) still fails.
    const failed = Math.max(this.counts.failed, failures, this.ended ? 0 : 1);
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
    exit(Math.max(failures, failed));
  }

  /** The files that took longest, from the times test/support/hooks.ts wrote (a whole run only): where splitting a file would shorten the run. */
  printSlowestFiles() {
    const out = process.env.MOCHA_FILE_TIMES;
    if (!out || !fs.existsSync(out)) return;
    const times = fs
      .readFileSync(out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .sort((a, b) => b.ms - a.ms);
    fs.rmSync(out, { force: true });
    if (times.length < 2) return;
    const total = times.reduce((sum, { ms }) => sum + ms, 0);
    process.stdout.write(`\n${times.length} files, ${(total / 1000).toFixed(0)} s of file time in all; the slowest:\n`);
    for (const { file, ms } of times.slice(0, 10)) process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}\n`);
    // Where the file time went in the test processes (test/support/hooks.ts): CPU, waiting for a core, and nothing to run.
    const sum = (key) => times.reduce((all, time) => all + (time[key] ?? 0), 0) / 1000;
    if (times.every((time) => time.mainMs !== undefined)) {
      const idle = total / 1000 - sum("mainMs") - sum("waitMs");
      process.stdout.write(`of the file time: ${sum("cpuMs").toFixed(0)} s of CPU in the test processes (${sum("mainMs").toFixed(0)} s on their main threads), ${sum("waitMs").toFixed(0)} s waiting for a core, ${idle.toFixed(0)} s with nothing to run (timers, I/O, child processes)\n`);
    }
  }
}

module.exports = SummaryReporter;
