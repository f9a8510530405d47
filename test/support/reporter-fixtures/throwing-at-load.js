"use strict";
// A fixture of test/unit/summary-reporter.test.ts: a file that throws while it is loaded, before any test is defined.

describe("never defined", () => {
  it("never runs", () => undefined);
});
throw new Error("this file fails to load");
