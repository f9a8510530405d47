import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import express from "express";
import { sendJson } from "../../server/rest/rest.router";

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** Every header but Date (which ticks), as the client receives them. */
function request(url: string, method: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        const picked: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(res.headers)) if (name !== "date") picked[name] = Array.isArray(value) ? value.join(", ") : value;
        resolve({ status: res.statusCode!, headers: picked, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** REST's JSON answers are written without express's res.json; what a client receives must be what res.json would send. */
describe("REST sendJson answers as express's res.status().json()", () => {
  const bodies: Array<[string, number, unknown]> = [
    ["a task-like object", 200, { task_id: "5f0c", title: "Photo of storefront <&>", reward_usd: "0.01", events: [{ kind: "POSTED", at: "2026-12-03T00:00:00.000Z" }], note: "naïve — ünïcödé ✓" }],
    ["an error", 404, { error: { code: "NOT_FOUND", message: "task x not found" } }],
    ["a created answer", 201, { ok: true }],
    ["null", 200, null],
    ["a string", 200, "text"],
    ["an empty list", 200, []],
    ["no content", 204, { ignored: true }],
  ];
  let server: http.Server;
  let base: string;

  before(async () => {
    const app = express();
    app.disable("x-powered-by");
    let index = 0;
    for (const [, status, body] of bodies) {
      const i = index++;
      app.all(`/express/${i}`, (_req, res) => {
        res.setHeader("X-RateLimit-Limit", "100");
        res.status(status).json(body);
      });
      app.all(`/direct/${i}`, (_req, res) => {
        res.setHeader("X-RateLimit-Limit", "100");
        sendJson(res, status, body);
      });
    }
    app.get("/express-typed", (_req, res) => void res.type("application/problem+json").status(400).json({ a: 1 }));
    app.get("/direct-typed", (_req, res) => {
      res.type("application/problem+json");
      sendJson(res, 400, { a: 1 });
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  bodies.forEach(([name, status], i) => {
    it(`${name} (${status}): the same status, headers and body, to GET, HEAD and a fresh If-None-Match`, async () => {
      const viaExpress = await request(`${base}/express/${i}`, "GET");
      const direct = await request(`${base}/direct/${i}`, "GET");
      expect(direct).to.deep.equal(viaExpress);
      expect(await request(`${base}/direct/${i}`, "HEAD")).to.deep.equal(await request(`${base}/express/${i}`, "HEAD"));
      if (viaExpress.headers.etag) {
        const conditional = { "if-none-match": viaExpress.headers.etag };
        const notModified = await request(`${base}/direct/${i}`, "GET", conditional);
        expect(notModified).to.deep.equal(await request(`${base}/express/${i}`, "GET", conditional));
        if (status === 200) expect(notModified.status).to.equal(304);
        // A stale tag is answered in full.
        expect(await request(`${base}/direct/${i}`, "GET", { "if-none-match": 'W/"0-stale"' })).to.deep.equal(viaExpress);
      }
    });
  });

  it("keeps a Content-Type the route set, as res.json does", async () => {
    expect(await request(`${base}/direct-typed`, "GET")).to.deep.equal(await request(`${base}/express-typed`, "GET"));
  });
});
