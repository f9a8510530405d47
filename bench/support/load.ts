/**
 * HTTP load for the benchmarks, one way for all: autocannon's options from a
 * target, and its result reduced to the figures the benchmarks print. The
 * load always runs in a process of its own (bench/support/read-load.ts), so
 * the load generator's work does not share the measured server's event
 * loop: for a number of seconds (measure(), bench/graphql.ts) or until told
 * to stop (readLoad(), bench/guardian.ts).
 */
import { fork, type ChildProcess } from "node:child_process";
import type autocannon from "autocannon";
import { scriptFile } from "./runtime";

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

/** What bench/support/read-load.ts is sent: the target, and how long to load it (until told "stop" when absent). */
export interface LoadRequest extends LoadTarget {
  seconds?: number;
}

/** Starts the load in a child process (bench/support/read-load.ts); resolves with its figures when it ends. */
function loadInChild(request: LoadRequest): { child: ChildProcess; figures: Promise<LoadFigures> } {
  const child = fork(scriptFile(__dirname, "read-load"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const figures = new Promise<LoadFigures>((resolve, reject) => {
    child.once("message", (message) => resolve(message as LoadFigures));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the load process exited with ${code} before sending its figures`)));
  });
  child.send(request);
  return { child, figures };
}

/** The load for `seconds`, from a process of its own, as the figures are measured. */
export function measure(target: LoadTarget, seconds: number): Promise<LoadFigures> {
  return loadInChild({ ...target, seconds }).figures;
}

/** The load from a process of its own until `until` settles; returns its figures. */
export async function readLoad(target: LoadTarget, until: Promise<unknown>): Promise<LoadFigures> {
  const { child, figures } = loadInChild(target);
  await until;
  child.send("stop");
  return figures;
}

/** One line of figures, as the benchmarks print them. */
export function formatFigures(figures: LoadFigures): string {
  return `${figures.requests} requests, p50 ${figures.p50} ms, p99 ${figures.p99} ms, errors ${figures.errors}`;
}
