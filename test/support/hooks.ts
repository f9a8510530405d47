/**
 * Root hooks for every run. Each test file's wall time (its hooks included:
 * servers, chains, browsers) goes to the file named by MOCHA_FILE_TIMES, a
 * JSON line per file, which the summary reporter reads to name the slowest
 * files. In a parallel run the root hooks run once per file, in the worker
 * process running it; in a serial run once for all the files named.
 */
import fs from "node:fs";
import path from "node:path";
import type { Context } from "mocha";

let startedAt = 0;

export const mochaHooks = {
  beforeAll(): void {
    startedAt = Date.now();
  },
  afterAll(this: Context): void {
    const out = process.env.MOCHA_FILE_TIMES;
    if (!out) return;
    const files = new Set((this.test?.parent?.suites ?? []).map((suite) => suite.file).filter((file): file is string => Boolean(file)));
    const file = files.size === 1 ? path.relative(process.cwd(), [...files][0]) : `${files.size} files`;
    fs.appendFileSync(out, `${JSON.stringify({ file, ms: Date.now() - startedAt })}\n`);
  },
};
