import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent } from "../support/fixtures";
import { ApiKey } from "../../server/agents/api-key.entity";
import { ApiKeyService } from "../../server/agents/api-key.service";
import { CallerCache } from "../../server/agents/caller-cache";
import { UnauthenticatedError } from "../../server/common/errors";

const TTL_MS = 1_000;
const TASKS = "{ tasks(first: 1) { totalCount } }";

for (const db of testDatabases()) {
  describe(`API keys: cached callers and revocation without Redis (${db.name})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startServer(db, { API_KEY_CACHE_MS: String(TTL_MS) });
    });
    after(() => server.stop());

    it("a revoked key is refused at once by the replica that revoked it, and by another (which heard nothing) once its cache's time-to-live runs out", async () => {
      const agent = await registerAgent(server.client);
      // Another replica on the same database with no Redis between them: nothing tells it of the revocation. Its clock is the test's.
      let now = 1_000_000;
      const other = new ApiKeyService(server.config.apiKeyPepper, TTL_MS, () => now);
      const principal = await other.authenticate(server.app.orm.em.fork(), agent.apiKey);
      expect(principal).to.include({ kind: "agent", agentId: agent.id });
      expect((await server.client.request(TASKS, {}, agent.apiKey)).status).to.equal(200);

      const em = server.app.orm.em.fork();
      const [key] = await em.find(ApiKey, { agent: agent.id });
      await server.app.services.keys.revoke(em, key.id);

      const here = await server.client.request(TASKS, {}, agent.apiKey);
      expect(here.status, "the replica that revoked it").to.equal(401);
      expect(here.errors?.[0]?.extensions?.code).to.equal("UNAUTHENTICATED");
      // Within the time-to-live the other replica still trusts what it cached: the bound this setting documents.
      now += TTL_MS - 1;
      expect((await other.authenticate(server.app.orm.em.fork(), agent.apiKey)).keyId).to.equal(key.id);
      now += 2;
      await expectRefused(other.authenticate(server.app.orm.em.fork(), agent.apiKey));
    });

    it("a revocation heard from another replica ends the trust at once", async () => {
      const agent = await registerAgent(server.client);
      const other = new ApiKeyService(server.config.apiKeyPepper, 60_000);
      const heard: Array<(keyId: string | null) => void> = [];
      other.shareRevocations({ announceRevocation: () => undefined, onRevocation: (listener) => heard.push(listener) });
      await other.authenticate(server.app.orm.em.fork(), agent.apiKey);

      const em = server.app.orm.em.fork();
      const [key] = await em.find(ApiKey, { agent: agent.id });
      await server.app.services.keys.revoke(em, key.id);
      for (const listener of heard) listener(key.id);
      await expectRefused(other.authenticate(server.app.orm.em.fork(), agent.apiKey));
    });

    it("an unknown or malformed key is refused, and a new key works at once", async () => {
      await expectRefused(server.app.services.keys.authenticate(server.app.orm.em.fork(), `ho_test_${"A".repeat(43)}`));
      await expectRefused(server.app.services.keys.authenticate(server.app.orm.em.fork(), "sk_live_123"));
      const agent = await registerAgent(server.client);
      expect((await server.client.request(TASKS, {}, agent.apiKey)).status).to.equal(200);
    });
  });
}

describe("the cache of callers", () => {
  const principal = { kind: "agent" as const, agentId: "a1", mode: "TEST" as never, keyId: "k1" };

  it("does not keep what a lookup read when a revocation came while it ran", () => {
    const cache = new CallerCache(5_000);
    const mark = cache.mark();
    cache.forget("k9");
    cache.remember("h1", principal, mark);
    expect(cache.get("h1")).to.equal(undefined);
  });

  it("does not cache a key revoked within a time-to-live (the revoking transaction may not have committed when it was read), and does after", () => {
    let now = 0;
    const cache = new CallerCache(5_000, () => now);
    cache.remember("h1", principal, cache.mark());
    cache.forget("k1");
    expect(cache.get("h1")).to.equal(undefined);
    cache.remember("h1", principal, cache.mark());
    expect(cache.get("h1")).to.equal(undefined);
    now = 5_001;
    cache.remember("h1", principal, cache.mark());
    expect(cache.get("h1")).to.deep.equal(principal);
    now = 10_002;
    expect(cache.get("h1"), "past its time-to-live").to.equal(undefined);
  });

  it("forgets everything when notices may have been missed", () => {
    const cache = new CallerCache(5_000);
    cache.remember("h1", principal, cache.mark());
    cache.forgetAll();
    expect(cache.size).to.equal(0);
  });
});

async function expectRefused(attempt: Promise<unknown>): Promise<void> {
  const outcome = await attempt.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).to.be.instanceOf(UnauthenticatedError);
}
