/**
 * Root hooks for every run. Each test file's wall time (its hooks included:
 * servers, chains, browsers) goes to the file named by MOCHA_FILE_TIMES, a
 * JSON line per file, which the summary reporter reads to name the slowest
 * files. In a parallel run the root hooks run once per file, in the worker
 * process running it; in a serial run once for all the files named.
 *
 * Beside the wall time, where it went in the test's own process (on Linux):
 * the CPU it used (every thread), and how long its main thread, the one
 * running the event loop, waited for a core while runnable. Wall time less
 * the main thread's CPU and that wait is time it had nothing to run (timers,
 * I/O, child processes): on a loaded machine that part stays, the wait
 * shrinks when the machine is quiet.
 */
import fs from "node:fs";
import path from "node:path";
import type { Context } from "mocha";

let startedAt = 0;
let cpuAt: NodeJS.CpuUsage = { user: 0, system: 0 };
let mainAt: MainThread | undefined;

interface MainThread {
  /** ms on a core. */
  runMs: number;
  /** ms runnable, waiting for a core. */
  waitMs: number;
}

/** The main thread's scheduler times (Linux /proc/self/schedstat, nanoseconds); undefined elsewhere. */
function mainThread(): MainThread | undefined {
  try {
    const [run, wait] = fs.readFileSync("/proc/self/schedstat", "utf8").split(" ").map(Number);
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return undefined;
  }
}

export const mochaHooks = {
  beforeAll(): void {
    startedAt = Date.now();
    cpuAt = process.cpuUsage();
    mainAt = mainThread();
  },
  afterAll(this: Context): void {
    const out = process.env.MOCHA_FILE_TIMES;
    if (!out) return;
    const files = new Set((this.test?.parent?.suites ?? []).map((suite) => suite.file).filter((file): file is string => Boolean(file)));
    const file = files.size === 1 ? path.relative(process.cwd(), [...files][0]) : `${files.size} files`;
    const ms = Date.now() - startedAt;
    const cpu = process.cpuUsage(cpuAt);
    const main = mainThread();
    const where = main && mainAt && { mainMs: Math.round(main.runMs - mainAt.runMs), waitMs: Math.round(main.waitMs - mainAt.waitMs) };
    fs.appendFileSync(out, `${JSON.stringify({ file, ms, cpuMs: Math.round((cpu.user + cpu.system) / 1000), ...where })}\n`);
  },
};
