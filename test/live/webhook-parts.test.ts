import { expect } from "chai";
import { computeSignature, signatureHeader, verifySignature } from "../../server/webhooks/webhook.signer";
import { generateSigningSecret, SecretBox } from "../../server/webhooks/webhook.secrets";
import { retryDelayMs } from "../../server/webhooks/webhook.sender";
import { postJson, readExcerpt, RESPONSE_EXCERPT_BYTES } from "../../server/webhooks/webhook.http";
import { Mode } from "../../server/common/mode";
import { Receiver } from "./support/receiver";
import http from "node:http";
import type { AddressInfo } from "node:net";

describe("webhook signing, secrets and retries", () => {
  it("signs timestamp and body together, and a receiver can verify within the tolerance only", () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ id: "evt_1", type: "task.paid" });
    const header = signatureHeader(secret, 1_700_000_000, body);
    expect(header).to.equal(`t=1700000000,v1=${computeSignature(secret, 1_700_000_000, body)}`);
    expect(verifySignature(secret, header, body, { now: 1_700_000_100 })).to.equal(true);
    expect(verifySignature(secret, header, body, { now: 1_700_000_301 }), "too old").to.equal(false);
    expect(verifySignature(secret, header, `${body} `, { now: 1_700_000_000 }), "body changed").to.equal(false);
    expect(verifySignature(secret, header.replace("t=1700000000", "t=1700000001"), body, { now: 1_700_000_000 }), "timestamp changed").to.equal(false);
    expect(verifySignature(generateSigningSecret(), header, body, { now: 1_700_000_000 }), "another secret").to.equal(false);
    expect(verifySignature(secret, undefined, body)).to.equal(false);
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
