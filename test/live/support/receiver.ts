import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How to answer the n-th request (0-based): an HTTP status, or "hold" to keep it waiting until the receiver closes. */
export type Answer = (request: ReceivedRequest, index: number) => number | "hold";

/** A webhook receiver on 127.0.0.1 that records every request and answers as the test says. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly held = new Set<http.ServerResponse>();
  private readonly waiters = new Set<() => void>();
  private server?: http.Server;
  url = "";

  constructor(public answer: Answer = () => 200) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const request = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
        const index = this.requests.push(request) - 1;
        const answer = this.answer(request, index);
        if (answer === "hold") this.held.add(res);
        else res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : `failing on purpose (${answer})`);
        for (const wake of [...this.waiters]) wake();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  /** Bodies parsed as JSON, in arrival order. */
  get events(): Array<Record<string, any>> {
    return this.requests.map((request) => JSON.parse(request.body));
  }

  async until(done: (receiver: this) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`receiver timed out with ${this.requests.length} request(s): ${this.requests.map((r) => r.body.slice(0, 120)).join(" | ")}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 100));
        this.waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
