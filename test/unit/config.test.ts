import path from "node:path";
import { expect } from "chai";
import { ConfigError, loadConfig } from "../../server/config";

describe("configuration", () => {
  it("runs embedded with nothing set: SQLite under ./data, port 4000, standard Guardian thresholds", () => {
    const config = loadConfig({});
    expect(config.port).to.equal(4000);
    expect(config.database).to.deep.equal({ kind: "sqlite", path: path.resolve("data/humanops.db") });
    expect(config.guardian).to.deep.include({ approveAt: 90, rejectBelow: 50, maxMegapixels: 50 });
    expect(config.guardian.decodeThreads).to.be.within(1, 4);
    expect(config.redisUrl).to.be.undefined;
  });

  it("decodes photos in the decoder process of lower priority unless GUARDIAN_DECODE_PROCESS=false", () => {
    expect(loadConfig({}).guardian.decodeProcess).to.equal(true);
    expect(loadConfig({ GUARDIAN_DECODE_PROCESS: "false" }).guardian.decodeProcess).to.equal(false);
    expect(() => loadConfig({ GUARDIAN_DECODE_PROCESS: "yes" })).to.throw(ConfigError, /GUARDIAN_DECODE_PROCESS: must be true or false/);
  });

  it("reads TRUST_PROXY as Express's trust proxy setting, off by default", () => {
    expect(loadConfig({}).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).to.equal(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).to.equal(2);
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).to.equal("loopback, 10.0.0.0/8");
    expect(loadConfig({}).rateLimits).to.deep.equal({ test: 120, live: 600, anonymous: 30, registrationsPerHour: 10 });
    expect(() => loadConfig({ TRUST_PROXY: "everyone" })).to.throw(/TRUST_PROXY: must be false, true, a number of proxy hops/);
  });

  it("reads the browser session lifetimes and the web app's settings, with their rules", () => {
    const config = loadConfig({});
    expect(config.sessions).to.deep.equal({ idleMs: 3 * 86_400_000, maxAgeMs: 30 * 86_400_000 });
    expect(config.web).to.deep.equal({
      distDir: path.resolve("dist/web"),
      mapTileUrl: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      sumsubWebSdkUrl: "https://static.sumsub.com/idensic/static/sns-websdk-builder.js",
      allowedOrigins: [],
    });
    expect(loadConfig({ WEB_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:5173" }).web.allowedOrigins).to.deep.equal(["https://app.example.com", "http://localhost:5173"]);
    expect(() => loadConfig({ WEB_ALLOWED_ORIGINS: "https://app.example.com/path" })).to.throw(ConfigError, /WEB_ALLOWED_ORIGINS: must be a comma-separated list of origins/);
    expect(() => loadConfig({ WEB_MAP_TILE_URL: "tiles/{z}/{x}/{y}.png" })).to.throw(ConfigError, /WEB_MAP_TILE_URL: must be an http:\/\/ or https:\/\/ URL/);
    expect(() => loadConfig({ SESSION_IDLE_TIMEOUT_S: "7200", SESSION_MAX_AGE_S: "3600" })).to.throw(ConfigError, /SESSION_IDLE_TIMEOUT_S: must not exceed SESSION_MAX_AGE_S/);
  });

  it("takes PostgreSQL from a postgres:// DATABASE_URL", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u@db:5432/humanops" }).database).to.deep.equal({ kind: "postgresql", url: "postgres://u@db:5432/humanops" });
  });

  it("names every bad variable and its rule at once", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: "http", WORKER_CONCURRENCY: "0", REDIS_URL: "localhost:6379", DEPLOYMENT_ID: "prod:1", TASK_MAX_REWARD_USD: "1.1234567" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const text = error!.message;
    expect(text).to.match(/PORT: must be a whole number/);
    expect(text).to.match(/WORKER_CONCURRENCY: must be at least 1/);
    expect(text).to.match(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(text).to.match(/DEPLOYMENT_ID: must be 1 to 64 letters, digits, - or _/);
    expect(text).to.match(/TASK_MAX_REWARD_USD: must be a USD amount with at most 6 decimals/);
  });

  it("checks settings against each other once each is valid", () => {
    expect(() => loadConfig({ GUARDIAN_APPROVE_AT: "40", GUARDIAN_REJECT_BELOW: "60" })).to.throw(ConfigError, /GUARDIAN_REJECT_BELOW: must not exceed GUARDIAN_APPROVE_AT \(40\)/);
  });

  it("refuses a DATABASE_URL of another kind, and production without an API key pepper", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).to.throw(ConfigError, /DATABASE_URL: must be a postgres:\/\/ URL or a SQLite file path/);
    expect(() => loadConfig({ NODE_ENV: "production" })).to.throw(ConfigError, /API_KEY_PEPPER: is required when NODE_ENV=production/);
  });

  it("lets test-mode webhooks reach loopback only outside production, unless set", () => {
    const pepper = { API_KEY_PEPPER: "a-production-pepper-0123456789" };
    expect(loadConfig({}).webhooks.allowLoopbackInTestMode).to.equal(true);
    expect(loadConfig({ NODE_ENV: "production", ...pepper }).webhooks.allowLoopbackInTestMode).to.equal(false);
    expect(loadConfig({ NODE_ENV: "production", WEBHOOK_ALLOW_LOOPBACK_IN_TEST_MODE: "true", ...pepper }).webhooks.allowLoopbackInTestMode).to.equal(true);
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK_IN_TEST_MODE: "false" }).webhooks.allowLoopbackInTestMode).to.equal(false);
  });
});
