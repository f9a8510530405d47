import { expect } from "chai";
import { createLogger } from "../../server/common/logger";
import { MemoryRateLimitCounter, RateLimiter, RedisRateLimitCounter, type RateLimitCounter } from "../../server/common/rate-limit";

const TEST_KEY = `ho_test_${"a".repeat(43)}`;
const LIVE_KEY = `ho_live_${"a".repeat(43)}`;
const MINUTE = 60_000;
const T0 = 1_800_000_000_000; // on a minute boundary

describe("rate limiter", () => {
  const log = createLogger("silent");
  const limiter = () => new RateLimiter(new MemoryRateLimitCounter(), { test: 3, live: 5, anonymous: 2 }, log);

  it("allows a test key its per-minute budget, then refuses until the window resets", async () => {
    const rl = limiter();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await rl.check(TEST_KEY, "10.0.0.1", T0 + 1_000 + i));
    expect(decisions.map((d) => [d.allowed, d.remaining])).to.deep.equal([[true, 2], [true, 1], [true, 0], [false, 0]]);
    expect(decisions.every((d) => d.limit === 3 && d.resetAt === T0 + MINUTE)).to.equal(true);
    const next = await rl.check(TEST_KEY, "10.0.0.1", T0 + MINUTE);
    expect(next).to.deep.equal({ allowed: true, limit: 3, remaining: 2, resetAt: T0 + 2 * MINUTE });
  });

  it("gives live keys their own, higher limit and counts each key and each keyless address apart", async () => {
    const rl = limiter();
    expect((await rl.check(LIVE_KEY, "10.0.0.1", T0)).limit).to.equal(5);
    for (let i = 0; i < 3; i++) await rl.check(TEST_KEY, "10.0.0.1", T0);
    expect((await rl.check(`ho_test_${"b".repeat(43)}`, "10.0.0.1", T0)).allowed, "another key").to.equal(true);
    expect((await rl.check(undefined, "10.0.0.1", T0)).limit).to.equal(2);
    await rl.check(undefined, "10.0.0.1", T0);
    expect((await rl.check(undefined, "10.0.0.1", T0)).allowed).to.equal(false);
    expect((await rl.check(undefined, "10.0.0.2", T0)).allowed, "another address").to.equal(true);
  });

  it("lets requests through when the counter is unreachable", async () => {
    const broken: RateLimitCounter = { increment: () => Promise.reject(new Error("connection refused")), close: async () => undefined };
    const decision = await new RateLimiter(broken, { test: 1, live: 1, anonymous: 1 }, log).check(TEST_KEY, "10.0.0.1", T0);
    expect(decision).to.deep.equal({ allowed: true, limit: 1, remaining: 1, resetAt: T0 + MINUTE });
  });

  it("lets requests through when Redis is unreachable", async () => {
    const counter = new RedisRateLimitCounter("redis://127.0.0.1:1", "a-deployment", log);
    try {
      const rl = new RateLimiter(counter, { test: 1, live: 1, anonymous: 1 }, log);
      const decisions = await Promise.all([1, 2, 3].map(() => rl.check(TEST_KEY, "10.0.0.1", T0)));
      expect(decisions.map((d) => d.allowed)).to.deep.equal([true, true, true]);
    } finally {
      await counter.close();
    }
  });
});
