/**
 * HTTP load for the benchmarks, one way for all: autocannon's options from a
 * target, and its result reduced to the figures the benchmarks print. The
 * load runs either in the benchmark's process (measure(), bench/graphql.ts)
 * or in a process of its own until told to stop (readLoad(),
 * bench/guardian.ts), where its own work does not share the measured
 * server's event loop.
 */
import { fork } from "node:child_process";
import path from "node:path";
import autocannon from "autocannon";

export interface LoadTarget {
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
}

export interface LoadFigures {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Failed requests and answers other than 2xx. */
  errors: number;
}

export function loadOptions(target: LoadTarget, seconds: number): autocannon.Options {
  return {
    url: target.url,
    method: target.method,
    headers: { "content-type": "application/json", ...target.headers },
    body: target.body,
    connections: target.connections,
    duration: seconds,
  };
}

export function figuresOf(result: autocannon.Result): LoadFigures {
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.non2xx,
  };
}

/** The load for `seconds`, in this process. */
export async function measure(target: LoadTarget, seconds: number): Promise<LoadFigures> {
  return figuresOf(await autocannon(loadOptions(target, seconds)));
}

/** The load in a child process (bench/support/read-load.ts) until `until` settles; returns its figures. */
export async function readLoad(target: LoadTarget, until: Promise<unknown>): Promise<LoadFigures> {
  const child = fork(path.join(__dirname, "read-load.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const figures = new Promise<LoadFigures>((resolve, reject) => {
    child.once("message", (message) => resolve(message as LoadFigures));
    child.once("error", reject);
  });
  child.send(target);
  await until;
  child.send("stop");
  return figures;
}

/** One line of figures, as the benchmarks print them. */
export function formatFigures(figures: LoadFigures): string {
  return `${figures.requests} requests, p50 ${figures.p50} ms, p99 ${figures.p99} ms, errors ${figures.errors}`;
}
