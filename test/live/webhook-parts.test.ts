import { createHmac } from "node:crypto";
import { expect } from "chai";
import { Webhook } from "standardwebhooks";
import { deliveryHeaders, standardSecretKey, standardSignature, WebhookSignatureScheme } from "../../server/webhooks/webhook.signer";
import { generateSigningSecret, SecretBox } from "../../server/webhooks/webhook.secrets";
import { WebhookEndpoint } from "../../server/webhooks/webhook-endpoint.entity";
import { retryDelayMs } from "../../server/webhooks/webhook.sender";
import { postJson, readExcerpt, RESPONSE_EXCERPT_BYTES } from "../../server/webhooks/webhook.http";
import { Mode } from "../../server/common/mode";
import { Receiver } from "./support/receiver";
import http from "node:http";
import type { AddressInfo } from "node:net";

const STANDARD = WebhookSignatureScheme.STANDARD;
const LEGACY = WebhookSignatureScheme.LEGACY;

describe("webhook signing, secrets and retries", () => {
  it("signs as the Standard Webhooks specification's own example does", () => {
    // The example in the specification and its reference libraries' tests.
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = '{"test": 2432232314}';
    expect(standardSignature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)).to.equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("makes headers the standardwebhooks library verifies, for every active secret, and it refuses any change", () => {
    const [current, previous] = [generateSigningSecret(), generateSigningSecret()];
    const body = JSON.stringify({ id: "evt_1", type: "task.paid" });
    const delivery = { eventId: "evt_1", eventType: "task.paid", deliveryId: "d-1", timestamp: Math.floor(Date.now() / 1000), body };
    const headers = deliveryHeaders(delivery, [{ scheme: STANDARD, secret: current }, { scheme: STANDARD, secret: previous }]);
    expect(headers).to.include({ "webhook-id": "evt_1", "webhook-timestamp": String(delivery.timestamp), "HumanOps-Event-Type": "task.paid" });
    expect(headers["webhook-signature"].split(" ")).to.have.length(2);
    for (const secret of [current, previous]) expect(new Webhook(secret).verify(body, headers)).to.deep.equal(JSON.parse(body));
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers), "another secret").to.throw(/No matching signature/);
    expect(() => new Webhook(current).verify(`${body} `, headers), "body changed").to.throw(/No matching signature/);
    expect(() => new Webhook(current).verify(body, { ...headers, "webhook-id": "evt_2" }), "event id changed").to.throw(/No matching signature/);
    const stale = deliveryHeaders({ ...delivery, timestamp: delivery.timestamp - 301 }, [{ scheme: STANDARD, secret: current }]);
    expect(() => new Webhook(current).verify(body, stale), "older than the tolerance").to.throw(/too old/);
    expect(headers, "no deprecated header without a LEGACY secret").not.to.have.property("HumanOps-Signature");
  });

  it("signs a LEGACY secret in HumanOps-Signature, beside a STANDARD one while a rotation from LEGACY overlaps", () => {
    const [legacy, standard] = ["an-old-style-secret-of-any-text-42", generateSigningSecret()];
    const body = '{"id":"evt_9"}';
    const timestamp = 1_700_000_000;
    const headers = deliveryHeaders({ eventId: "evt_9", eventType: "task.posted", deliveryId: "d-9", timestamp, body }, [{ scheme: STANDARD, secret: standard }, { scheme: LEGACY, secret: legacy }]);
    const hex = createHmac("sha256", legacy).update(`${timestamp}.${body}`).digest("hex");
    expect(headers).to.include({ "HumanOps-Signature": `t=${timestamp},v1=${hex}`, "HumanOps-Timestamp": String(timestamp), "HumanOps-Event-Id": "evt_9" });
    expect(headers["webhook-signature"]).to.equal(new Webhook(standard).sign("evt_9", new Date(timestamp * 1000), body));
  });

  it("takes secrets in the spec's whsec_<base64> form only, of 24 to 64 bytes", () => {
    expect(standardSecretKey(generateSigningSecret())).to.have.length(32);
    expect(standardSecretKey(`whsec_${Buffer.alloc(24, 1).toString("base64")}`)).to.have.length(24);
    expect(standardSecretKey(`whsec_${Buffer.alloc(64, 1).toString("base64")}`)).to.have.length(64);
    for (const bad of [
      `whsec_${Buffer.alloc(23, 1).toString("base64")}`,
      `whsec_${Buffer.alloc(65, 1).toString("base64")}`,
      `whsec_${Buffer.alloc(32, 251).toString("base64url")}`,
      `whsec_${Buffer.alloc(32, 1).toString("base64").replace("=", "")}`,
      Buffer.alloc(32, 1).toString("base64"),
      "cb-secret-for-one-task-0123456789",
    ]) {
      expect(standardSecretKey(bad), bad).to.equal(undefined);
    }
  });

  it("lets a replaced secret sign until the stated time only", () => {
    const endpoint = Object.assign(Object.create(WebhookEndpoint.prototype) as WebhookEndpoint, {
      previousSealedSecret: "v1.sealed",
      previousScheme: STANDARD,
      previousFingerprint: "abcdef012345",
      previousExpiresAt: new Date("2026-12-02T12:00:00Z"),
    });
    expect(endpoint.previousSecret(new Date("2026-12-02T11:59:59Z"))).to.deep.equal({ sealedSecret: "v1.sealed", scheme: STANDARD });
    expect(endpoint.previousSecret(new Date("2026-12-02T12:00:00Z"))).to.equal(undefined);
  });

  it("seals secrets so the stored form reveals nothing and cannot be altered", () => {
    const box = new SecretBox("a-pepper-of-at-least-16-chars");
    const secret = generateSigningSecret();
    const { sealedSecret, secretFingerprint } = box.sealWithFingerprint(secret);
    expect(sealedSecret).not.to.include(secret.slice(6, 20));
    expect(box.open(sealedSecret)).to.equal(secret);
    expect(box.seal(secret), "a fresh nonce each time").not.to.equal(sealedSecret);
    expect(secretFingerprint).to.match(/^[0-9a-f]{12}$/);
    const tampered = sealedSecret.slice(0, -2) + (sealedSecret.endsWith("AA") ? "BB" : "AA");
    expect(() => box.open(tampered)).to.throw();
    expect(() => new SecretBox("another-pepper-0123456789").open(sealedSecret)).to.throw();
  });

  it("backs off exponentially with jitter, capped", () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const step = Math.min(3_600_000, 30_000 * 2 ** (attempt - 1));
      const delays = Array.from({ length: 50 }, () => retryDelayMs(attempt, 30_000, 3_600_000));
      expect(Math.min(...delays)).to.be.at.least(step / 2);
      expect(Math.max(...delays)).to.be.at.most(step);
    }
    const spread = new Set(Array.from({ length: 20 }, () => retryDelayMs(5, 30_000, 3_600_000)));
    expect(spread.size, "jittered").to.be.greaterThan(1);
  });

  it("keeps at most a short excerpt of a receiver's answer, none from a loopback address, and gives up after the timeout", async () => {
    const chatty = http.createServer((_req, res) => res.writeHead(500).end("x".repeat(10_000)));
    const silent = await new Receiver(() => "hold").start();
    await new Promise<void>((resolve) => chatty.listen(0, "127.0.0.1", resolve));
    try {
      const url = new URL(`http://127.0.0.1:${(chatty.address() as AddressInfo).port}/`);
      const policy = { mode: Mode.TEST, allowLoopbackInTestMode: true };
      const loopback = await postJson(url, {}, "{}", policy, 2_000);
      expect(loopback).to.deep.include({ succeeded: false, statusCode: 500, error: "HTTP 500" });
      expect(loopback, "a loopback target's answer is never kept").not.to.have.property("responseExcerpt");
      const excerpt = await new Promise<string | undefined>((resolve, reject) =>
        http.get(url, (response) => readExcerpt(response, resolve)).on("error", reject),
      );
      expect(excerpt).to.equal("x".repeat(RESPONSE_EXCERPT_BYTES));
      const timedOut = await postJson(new URL(silent.url), {}, "{}", policy, 200);
      expect(timedOut).to.deep.include({ succeeded: false, error: "no answer within 200 ms" });
    } finally {
      chatty.closeAllConnections();
      chatty.close();
      await silent.close();
    }
  });
});
