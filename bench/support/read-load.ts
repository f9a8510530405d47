/**
 * A GraphQL read load in a process of its own, so the load generator's own
 * work does not share the measured server's event loop: started with fork()
 * by a benchmark, it runs autocannon until told "stop" and sends back its
 * latency figures.
 *
 *   message in:  { url, body, headers, connections }  then "stop"
 *   message out: { requests, p50, p99, max, errors }
 */
import autocannon from "autocannon";

interface Start {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
}

process.once("message", (start: Start) => {
  const instance = autocannon(
    { url: start.url, method: "POST", headers: { "content-type": "application/json", ...start.headers }, body: start.body, connections: start.connections, duration: 3_600 },
    (err, result) => {
      if (err) throw err;
      process.send!({ requests: result.requests.total, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, errors: result.errors + result.non2xx }, () => process.exit(0));
    },
  );
  process.on("message", (message) => {
    if (message === "stop") instance.stop();
  });
});
