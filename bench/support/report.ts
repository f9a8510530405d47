/**
 * A benchmark's figures for `npm run bench -- perf` (bench/perf.ts), which
 * runs each benchmark in its own process and reads them back: one line,
 * printed only when BENCH_REPORT is set, so a benchmark run alone prints
 * just its tables.
 */
export const REPORT_PREFIX = "BENCH_REPORT ";

export function report(figures: Record<string, unknown>): void {
  if (process.env.BENCH_REPORT) console.log(REPORT_PREFIX + JSON.stringify(figures));
}
