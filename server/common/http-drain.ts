import type http from "node:http";

/**
 * Stops an HTTP server without cutting a request short: no new connections
 * are accepted, every request that has begun arriving is answered, idle
 * keep-alive connections are closed as they go quiet, and after `graceMs`
 * whatever is left is closed.
 *
 * (Apollo's drain plugin half-closes every socket that has no parsed request
 * yet, including ones whose request bytes already arrived: those requests
 * then run but their answers are lost.)
 */
export async function drainHttpServer(server: http.Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
