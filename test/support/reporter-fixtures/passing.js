"use strict";
// A fixture of test/unit/summary-reporter.test.ts (not a test of the suite): two passing tests and a skipped one.
const assert = require("node:assert");

describe("passing file", () => {
  it("passes once", () => assert.equal(1 + 1, 2));
  it("passes twice", async () => assert.equal(await Promise.resolve(3), 3));
  it.skip("is skipped", () => undefined);
});
