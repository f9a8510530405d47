import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { until } from "../support/until";
import { RestClient, restTaskBody } from "../support/rest-client";
import { Webhook } from "standardwebhooks";
import { generateSigningSecret } from "../../server/webhooks/webhook.secrets";
import { legacySignatureValid } from "../live/support/webhook-ops";

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local receiver that records every delivery and answers 200. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

for (const db of testDatabases()) {
  describe(`REST API: webhook endpoints and deliveries (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db, { WEBHOOK_POLL_MS: "20" });
      rest = await RestClient.connect(server.url);
      receiver = await startReceiver();
      agent = await rest.registerAgent("hooked");
    });
    after(async () => {
      await server.stop();
      await receiver.close();
    });

    it("registers an endpoint (secret shown once) that receives a task's events, signed, and logs each delivery", async () => {
      const types = await rest.get("/webhooks/event-types", agent.apiKey);
      expect(types.body.event_types).to.include.members(["task.status_changed", "task.paid"]);

      const created = await rest.post("/webhooks/endpoints", { url: `${receiver.url}/all`, description: "every transition" }, agent.apiKey);
      expect(created.status).to.equal(201);
      expect(created.body).to.include({ url: `${receiver.url}/all`, status: "ACTIVE", mode: "test", task_id: null, signature_scheme: "STANDARD", previous_secret_fingerprint: null });
      expect(created.body.secret).to.be.a("string");
      const fetched = await rest.get(`/webhooks/endpoints/${created.body.endpoint_id}`, agent.apiKey);
      expect(fetched.body).not.to.have.property("secret");

      const task = await rest.post("/tasks", restTaskBody(), agent.apiKey);
      await rest.waitForStatus(agent.apiKey, task.body.task_id, ["PAID"]);
      const paid = await until(
        () => receiver.received.find((r) => r.path === "/all" && r.headers["humanops-event-type"] === "task.paid"),
        "the task.paid delivery",
      );
      // The receiver's check, with the Standard Webhooks reference library.
      expect(new Webhook(created.body.secret).verify(paid.body, paid.headers as Record<string, string>)).to.deep.include({ type: "task.paid" });

      const log = await until(async () => {
        const page = await rest.get(`/webhooks/deliveries?task_id=${task.body.task_id}&status=DELIVERED`, agent.apiKey);
        return page.body.deliveries.length >= 5 ? page.body : undefined;
      }, "five delivered events");
      expect(log.deliveries.every((d: any) => d.endpoint_id === created.body.endpoint_id)).to.equal(true);
      const one = await rest.get(`/webhooks/deliveries/${log.deliveries[0].delivery_id}`, agent.apiKey);
      expect(one.body.attempt_log[0]).to.include({ attempt: 1, succeeded: true, status_code: 200 });
      expect(JSON.parse(one.body.payload)).to.be.an("object");

      const before = receiver.received.length;
      const again = await rest.request("POST", `/webhooks/deliveries/${one.body.delivery_id}/redeliver`, { apiKey: agent.apiKey });
      expect(again.status).to.equal(200);
      const redelivered = await until(() => receiver.received.slice(before).find((r) => r.headers["webhook-id"] === one.body.event_id), "the redelivery");
      expect(redelivered.body, "the stored payload, byte for byte").to.equal(one.body.payload);
      expect(() => new Webhook(created.body.secret).verify(redelivered.body, redelivered.headers as Record<string, string>)).not.to.throw();
    });

    it("pages through the delivery log with limit and next_cursor", async () => {
      const first = await rest.get("/webhooks/deliveries?limit=2", agent.apiKey);
      expect(first.body.deliveries).to.have.length(2);
      expect(first.body.pagination).to.include({ limit: 2, has_more: true });
      const second = await rest.get(`/webhooks/deliveries?limit=2&after=${first.body.pagination.next_cursor}`, agent.apiKey);
      const ids = [...first.body.deliveries, ...second.body.deliveries].map((d: any) => d.delivery_id);
      expect(new Set(ids).size).to.equal(4);
    });

    it("takes a task's own callback_url and callback_secret on POST /tasks", async () => {
      const secret = `cb-${randomUUID()}`;
      const task = await rest.post("/tasks", restTaskBody({ callback_url: `${receiver.url}/task`, callback_secret: secret }), agent.apiKey);
      expect(task.status).to.equal(201);
      expect(task.body).not.to.have.property("callback_secret");
      const endpoints = await rest.get("/webhooks/endpoints", agent.apiKey);
      const own = endpoints.body.endpoints.find((e: any) => e.task_id === task.body.task_id);
      expect(own).to.include({ url: `${receiver.url}/task` });
      const delivery = await until(() => receiver.received.find((r) => r.path === "/task"), "a delivery to the task's callback_url");
      expect(own.signature_scheme, "a callback_secret of any text keeps the deprecated scheme").to.equal("LEGACY");
      expect(legacySignatureValid(secret, { ...delivery, at: Date.now() })).to.equal(true);

      const missing = await rest.post("/tasks", restTaskBody({ callback_url: `${receiver.url}/task` }), agent.apiKey);
      expect(missing.status).to.equal(400);
      expect(missing.body.error.field).to.equal("callback_secret");
    });

    it("updates and deletes an endpoint; other agents cannot see it", async () => {
      const created = await rest.post("/webhooks/endpoints", { url: `${receiver.url}/later`, event_types: ["task.paid"] }, agent.apiKey);
      const disabled = await rest.request("PATCH", `/webhooks/endpoints/${created.body.endpoint_id}`, { apiKey: agent.apiKey, json: { enabled: false } });
      expect(disabled.status).to.equal(200);
      expect(disabled.body.status).to.equal("DISABLED");
      const badType = await rest.request("PATCH", `/webhooks/endpoints/${created.body.endpoint_id}`, { apiKey: agent.apiKey, json: { event_types: ["task.exploded"] } });
      expect(badType.status).to.equal(400);
      expect(badType.body.error.field).to.equal("event_types[0]");

      const stranger = await rest.registerAgent("stranger");
      expect((await rest.get(`/webhooks/endpoints/${created.body.endpoint_id}`, stranger.apiKey)).status).to.equal(404);
      expect((await rest.request("DELETE", `/webhooks/endpoints/${created.body.endpoint_id}`, { apiKey: stranger.apiKey })).status).to.equal(404);

      const deleted = await rest.request("DELETE", `/webhooks/endpoints/${created.body.endpoint_id}`, { apiKey: agent.apiKey });
      expect(deleted.body).to.deep.equal({ endpoint_id: created.body.endpoint_id, deleted: true });
      expect((await rest.get(`/webhooks/endpoints/${created.body.endpoint_id}`, agent.apiKey)).status).to.equal(404);
    });

    it("rotates an endpoint's secret: both sign until previous_secret_expires_at, and a retry under the same Idempotency-Key rotates once", async () => {
      const created = await rest.post("/webhooks/endpoints", { url: `${receiver.url}/rotated`, event_types: ["task.posted"] }, agent.apiKey);
      const until_ = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const key = randomUUID();
      const rotated = await rest.post(`/webhooks/endpoints/${created.body.endpoint_id}/rotate-secret`, { previous_secret_expires_at: until_ }, agent.apiKey, { "Idempotency-Key": key });
      expect(rotated.status).to.equal(200);
      expect(rotated.body).to.include({ signature_scheme: "STANDARD", previous_secret_fingerprint: created.body.secret_fingerprint, previous_secret_expires_at: until_ });
      expect(rotated.body.secret).to.match(/^whsec_/).and.not.equal(created.body.secret);
      const retried = await rest.post(`/webhooks/endpoints/${created.body.endpoint_id}/rotate-secret`, { previous_secret_expires_at: until_ }, agent.apiKey, { "Idempotency-Key": key });
      expect(retried.body).to.deep.equal(rotated.body);

      await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const delivery = await until(() => receiver.received.find((r) => r.path === "/rotated"), "a delivery during the overlap");
      for (const secret of [created.body.secret, rotated.body.secret]) {
        expect(() => new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>)).not.to.throw();
      }

      const own = generateSigningSecret();
      const bare = await rest.request("POST", `/webhooks/endpoints/${created.body.endpoint_id}/rotate-secret`, { apiKey: agent.apiKey, json: { secret: own } });
      expect(bare.status).to.equal(200);
      expect(bare.body.secret).to.equal(own);
      const tooLong = await rest.post(`/webhooks/endpoints/${created.body.endpoint_id}/rotate-secret`, { previous_secret_expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() }, agent.apiKey);
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body.error.field).to.equal("previous_secret_expires_at");
      const stranger = await rest.registerAgent("rotator");
      expect((await rest.post(`/webhooks/endpoints/${created.body.endpoint_id}/rotate-secret`, {}, stranger.apiKey)).status).to.equal(404);
    });

    it("replays endpoint creation under the same Idempotency-Key instead of registering twice", async () => {
      const key = randomUUID();
      const body = { url: `${receiver.url}/once` };
      const first = await rest.post("/webhooks/endpoints", body, agent.apiKey, { "Idempotency-Key": key });
      const second = await rest.post("/webhooks/endpoints", body, agent.apiKey, { "Idempotency-Key": key });
      expect(second.body).to.deep.equal(first.body);
      const endpoints = await rest.get("/webhooks/endpoints", agent.apiKey);
      expect(endpoints.body.endpoints.filter((e: any) => e.url === body.url)).to.have.length(1);
    });
  });
}
