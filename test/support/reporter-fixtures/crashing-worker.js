"use strict";
// A fixture of test/unit/summary-reporter.test.ts: the process running this file dies in the middle of it.

describe("crashing file", () => {
  it("passes before the crash", () => undefined);
  it("kills its own process", () => {
    process.kill(process.pid, "SIGKILL");
  });
});
