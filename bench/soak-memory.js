"use strict";
// Preloaded into each soak replica (NODE_OPTIONS=--require): prints its memory as a log line every SOAK_MEMORY_MS.
const { isMainThread } = require("node:worker_threads");
const every = Number(process.env.SOAK_MEMORY_MS || 10000);
const sample = () => {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ soakMemory: { at: Date.now(), rss, heapUsed, heapTotal, external } })}\n`);
};
// NODE_OPTIONS reaches worker threads too (the Guardian's image decoders): only the process's main thread reports.
if (isMainThread) {
  setTimeout(sample, 0).unref();
  setInterval(sample, every).unref();
}
