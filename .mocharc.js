"use strict";
// One mocha configuration for every suite: contracts, server and end to end.
process.env.TS_NODE_TRANSPILE_ONLY ??= "true";
process.env.TS_NODE_FILES ??= "true";

module.exports = {
  require: ["ts-node/register", "reflect-metadata", "test/support/hooks.ts"],
  extension: ["ts"],
  spec: ["test/**/*.test.ts"],
  reporter: "test/support/summary-reporter.js",
  timeout: 60_000,
  exit: true,
};
