"use strict";
// A fixture of test/unit/summary-reporter.test.ts: a failing test, and a before hook that fails, so its tests never run.
const assert = require("node:assert");

describe("failing file", () => {
  it("passes", () => undefined);
  it("fails", () => assert.equal(1, 2));
  describe("with a failing before hook", () => {
    before(() => {
      throw new Error("the hook failed");
    });
    it("never runs", () => undefined);
    it("never runs either", () => undefined);
  });
});
