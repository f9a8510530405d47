"use strict";
// One mocha configuration for every suite: contracts, server and end to end.
process.env.TS_NODE_TRANSPILE_ONLY ??= "true";
process.env.TS_NODE_FILES ??= "true";

module.exports = {
  require: ["ts-node/register", "reflect-metadata", "test/support/hooks.ts"],
  extension: ["ts"],
  // Files named on the command line replace the default set instead of adding to it.
  spec: process.argv.slice(2).some((arg) => arg.endsWith(".ts")) ? [] : ["test/**/*.test.ts"],
  reporter: "test/support/summary-reporter.js",
  timeout: 60_000,
  exit: true,
};
