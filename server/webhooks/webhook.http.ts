import http from "node:http";
import https from "node:https";
import { guardedLookup, isLoopbackAddress, type UrlPolicy } from "./ssrf.guard";

/** Only this much of a receiver's answer is kept, for the delivery log. */
export const RESPONSE_EXCERPT_BYTES = 512;

export interface PostOutcome {
  succeeded: boolean;
  statusCode?: number;
  error?: string;
  responseExcerpt?: string;
  durationMs: number;
}

/**
 * POSTs one delivery. Succeeds on any 2xx; redirects are not followed (a
 * redirect could lead anywhere, past the address check). The whole exchange
 * is bounded by `timeoutMs`, and at most RESPONSE_EXCERPT_BYTES of the
 * answer are read (none from a loopback address).
 */
export function postJson(url: URL, headers: Record<string, string>, body: string, policy: UrlPolicy, timeoutMs: number): Promise<PostOutcome> {
  const started = Date.now();
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<PostOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ ...outcome, durationMs: Date.now() - started });
    };
    const request = client.request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      lookup: guardedLookup(policy),
      agent: false,
    });
    const timer = setTimeout(() => finish({ succeeded: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    request.on("error", (err) => finish({ succeeded: false, error: err.message }));
    request.on("response", (response) => {
      const statusCode = response.statusCode ?? 0;
      const succeeded = statusCode >= 200 && statusCode < 300;
      const outcome = { succeeded, statusCode, error: succeeded ? undefined : `HTTP ${statusCode}` };
      // A loopback target may be any of this machine's own services: its answer is never kept.
      const remote = response.socket?.remoteAddress;
      if (!remote || isLoopbackAddress(remote)) return finish(outcome);
      readExcerpt(response, (responseExcerpt) => finish({ ...outcome, responseExcerpt }));
    });
    request.end(body);
  });
}

/** Reads at most RESPONSE_EXCERPT_BYTES of an answer and hands them on as text (undefined when empty). */
export function readExcerpt(response: http.IncomingMessage, done: (excerpt: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8") || undefined);
  };
  response.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
    if (received >= RESPONSE_EXCERPT_BYTES) finish();
  });
  response.on("end", finish);
  response.on("error", finish);
}
