import { expect } from "chai";
import { createLogger } from "../../server/common/logger";
import { createRateLimiter, RateLimiter, RequestBudget, type Caller } from "../../server/common/rate-limit";
import { Mode } from "../../server/common/mode";
import { DomainError } from "../../server/common/errors";

const LIMITS = { test: 3, live: 5, anonymous: 2, registrationsPerHour: 2 };
const testKey = (id: string): Caller => ({ key: { id, mode: Mode.TEST } });
const liveKey = (id: string): Caller => ({ key: { id, mode: Mode.LIVE } });
const address = (ip: string): Caller => ({ address: ip });

describe("rate limiter", () => {
  const log = createLogger("silent");

  it("allows a test key its per-minute budget, then refuses, saying when it is whole again", async () => {
    const limiter = new RateLimiter(LIMITS, log);
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.spend(testKey("k1")));
    expect(decisions.map((d) => [d.allowed, d.remaining, d.limit])).to.deep.equal([[true, 2, 3], [true, 1, 3], [true, 0, 3], [false, 0, 3]]);
    expect(decisions[3].resetAt).to.be.within(Date.now(), Date.now() + 60_000);
  });

  it("gives live keys their own, higher limit and counts each key and each keyless address apart", async () => {
    const limiter = new RateLimiter(LIMITS, log);
    expect((await limiter.spend(liveKey("live"))).limit).to.equal(5);
    for (let i = 0; i < 3; i++) await limiter.spend(testKey("k1"));
    expect((await limiter.spend(testKey("k2"))).allowed, "another key").to.equal(true);
    expect((await limiter.spend(address("10.0.0.1"))).limit).to.equal(2);
    await limiter.spend(address("10.0.0.1"));
    expect((await limiter.spend(address("10.0.0.1"))).allowed).to.equal(false);
    expect((await limiter.spend(address("10.0.0.2"))).allowed, "another address").to.equal(true);
  });

  it("spends a request's point on admission and one more per mutation; registrations draw on the address's hourly budget", async () => {
    const limiter = new RateLimiter(LIMITS, log);
    const budget = new RequestBudget(limiter, testKey("k1"), address("10.0.0.9"));
    expect((await budget.admit()).remaining).to.equal(2);
    await budget.spendMutation(false);
    await budget.spendMutation(false);
    const refused = await budget.spendMutation(false).then(() => undefined, (err: unknown) => err);
    expect(refused).to.be.instanceOf(DomainError).and.to.include({ code: "RATE_LIMITED" });
    expect((refused as Error).message).to.match(/rate limit of 3 requests per minute \(every mutation counts as one more\) exceeded; retry after \d+ s/);

    await budget.spendMutation(true);
    await budget.spendMutation(true);
    const third = await budget.spendMutation(true).then(() => undefined, (err: unknown) => err);
    expect((third as Error).message).to.match(/rate limit of 2 accounts per hour from one address exceeded/);
    const elsewhere = new RequestBudget(limiter, testKey("k1"), address("10.0.0.10"));
    await elsewhere.spendMutation(true);
  });

  it("keeps counting in this process while Redis is unreachable", async () => {
    const limiter = createRateLimiter(LIMITS, "redis://127.0.0.1:1", "a-deployment", log);
    try {
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.spend(testKey("k1")));
      expect(decisions.map((d) => d.allowed)).to.deep.equal([true, true, true, false]);
    } finally {
      await limiter.close();
    }
  });
});
