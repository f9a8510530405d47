import WebSocket from "ws";
import { createClient, type Client } from "graphql-ws";

/** What a graphql-ws sink saw: results, a terminal error (a GraphQL error list or a socket close event), completion. */
export class Recorder<T = Record<string, any>> {
  readonly results: T[] = [];
  errors?: unknown;
  completed = false;
  private readonly waiters = new Set<() => void>();

  constructor(readonly dispose: () => void) {}

  push(result: T): void {
    this.results.push(result);
    this.notify();
  }

  fail(error: unknown): void {
    this.errors = error;
    this.notify();
  }

  complete(): void {
    this.completed = true;
    this.notify();
  }

  /** Resolves once `done()` holds, or rejects after `timeoutMs` describing what arrived. */
  async until(done: (recorder: this) => boolean, timeoutMs = 10_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out: ${this.results.length} result(s) ${JSON.stringify(this.results).slice(0, 500)}, error ${describe(this.errors)}, completed ${this.completed}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return this;
  }

  /** Resolves when the subscription ended with an error or completed. */
  ended(timeoutMs?: number): Promise<this> {
    return this.until((r) => r.errors !== undefined || r.completed, timeoutMs);
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

function describe(error: unknown): string {
  if (error === undefined) return "none";
  if (isCloseEvent(error)) return `close ${error.code} ${error.reason}`;
  return JSON.stringify(error);
}

export function isCloseEvent(error: unknown): error is { code: number; reason: string } {
  return typeof error === "object" && error !== null && "code" in error && "reason" in error;
}

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, "ws")}/graphql`;
}

/** A real graphql-ws client, as a dashboard would open one, that does not reconnect behind the test's back. */
export function connect(httpUrl: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url: wsUrl(httpUrl), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

export function subscribe<T = Record<string, any>>(client: Client, query: string, variables: Record<string, unknown> = {}): Recorder<T> {
  let recorder!: Recorder<T>;
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => (result.errors ? recorder.fail(result.errors) : recorder.push(result.data as T)),
      error: (error) => recorder.fail(error),
      complete: () => recorder.complete(),
    },
  );
  recorder = new Recorder<T>(dispose);
  return recorder;
}

export const UPDATE_FIELDS = "eventId taskId kind status previousStatus occurredAt actorType reason";
