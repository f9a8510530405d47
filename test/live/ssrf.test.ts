import { expect } from "chai";
import { Mode } from "../../server/common/mode";
import { checkWebhookUrl, forbiddenAddressReason, guardedLookup } from "../../server/webhooks/ssrf.guard";
import { postJson } from "../../server/webhooks/webhook.http";
import { Receiver } from "./support/receiver";

const LIVE = { mode: Mode.LIVE, allowLoopbackInTestMode: true };
const TEST = { mode: Mode.TEST, allowLoopbackInTestMode: true };

describe("webhook SSRF guard", () => {
  it("classifies addresses: public ones pass; private, loopback, link-local, CGNAT, multicast, reserved and IPv6 local ones do not", () => {
    const verdicts = Object.fromEntries(
      [
        "93.184.215.14",
        "2606:4700:4700::1111",
        "127.0.0.1",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::",
        "224.0.0.251",
        "ff02::1",
        "fd12:3456::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "198.18.0.1",
        "2001:db8::1",
      ].map((address) => [address, forbiddenAddressReason(address, false) ?? "public"]),
    );
    expect(verdicts).to.deep.equal({
      "93.184.215.14": "public",
      "2606:4700:4700::1111": "public",
      "127.0.0.1": "a loopback address",
      "::1": "a loopback address",
      "10.0.0.1": "a private network address",
      "172.16.5.4": "a private network address",
      "192.168.1.1": "a private network address",
      "169.254.169.254": "a link-local address (this includes cloud metadata services)",
      "100.64.0.1": "a carrier-grade NAT address",
      "0.0.0.0": "an unspecified address",
      "::": "an unspecified address",
      "224.0.0.251": "a multicast address",
      "ff02::1": "a multicast address",
      "fd12:3456::1": "a private network address",
      "fe80::1": "a link-local address (this includes cloud metadata services)",
      "::ffff:10.0.0.1": "a private network address",
      "64:ff9b::a9fe:a9fe": "a link-local address (this includes cloud metadata services)",
      "198.18.0.1": "a reserved or special-purpose address",
      "2001:db8::1": "a reserved or special-purpose address",
    });
    expect(forbiddenAddressReason("127.0.0.1", true), "loopback when allowed").to.equal(undefined);
    expect(forbiddenAddressReason("10.0.0.1", true), "loopback permission covers loopback only").to.equal("a private network address");
  });

  it("sees through the other spellings of an address that URLs allow", () => {
    for (const url of ["https://2130706433/", "https://0x7f.1/", "https://[::ffff:7f00:1]/", "https://127.1/"]) {
      expect(() => checkWebhookUrl(url, LIVE), url).to.throw(/loopback/);
    }
  });

  it("checks the address it connects to: a name that resolves to loopback is refused at delivery in live mode", async () => {
    const receiver = await new Receiver().start();
    try {
      const url = new URL(receiver.url.replace("127.0.0.1", "localhost"));
      const refused = await postJson(url, {}, "{}", LIVE, 2_000);
      expect(refused.succeeded).to.equal(false);
      expect(refused.error).to.match(/localhost resolves to .*loopback address; delivery refused/);
      expect(receiver.requests).to.have.length(0);

      const allowed = await postJson(url, {}, "{}", TEST, 2_000);
      expect(allowed).to.deep.include({ succeeded: true, statusCode: 200 });
      expect(allowed.responseExcerpt, "a loopback target's answer is never kept").to.equal(undefined);
      expect(receiver.requests).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });

  it("hands the HTTP client only addresses it checked", async () => {
    const lookup = guardedLookup(TEST);
    const addresses = await new Promise<unknown>((resolve, reject) =>
      lookup("localhost", { all: true }, (err, result) => (err ? reject(err) : resolve(result))),
    );
    expect((addresses as Array<{ address: string }>).every((a) => forbiddenAddressReason(a.address, true) === undefined)).to.equal(true);
  });
});
