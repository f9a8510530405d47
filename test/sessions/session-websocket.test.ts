import { expect } from "chai";
import WebSocket from "ws";
import { createClient, type Client } from "graphql-ws";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { BrowserSession } from "../support/browser";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { isCloseEvent, subscribe, UPDATE_FIELDS, wsUrl } from "../live/support/ws-client";
import { eventually, subscribersReach } from "../live/support/live";
import { ApiKey } from "../../server/agents/api-key.entity";
import { BrowserSession as SessionRow } from "../../server/sessions/browser-session.entity";
import { TestClock } from "../support/clock";

const AGENT_FEED = `subscription { tasksUpdated { ${UPDATE_FIELDS} task { id } } }`;
const ALLOWED = "http://localhost:5173";

/** A graphql-ws client as the web app's page opens one: no key, the browser's cookie and Origin on the upgrade. */
function browserClient(server: TestServer, cookie: string | undefined, origin: string | undefined): Client {
  class PageWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: cookie ? { cookie: `humanops_session=${cookie}` } : {}, ...(origin ? { origin } : {}) });
    }
  }
  return createClient({ url: wsUrl(server.url), webSocketImpl: PageWebSocket, retryAttempts: 0, lazy: true });
}

/** The HTTP status a WebSocket upgrade is answered with (101 when it is accepted). */
function upgradeStatus(server: TestServer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(server.url), "graphql-transport-ws", { headers });
    ws.once("upgrade", (res) => {
      resolve(res.statusCode ?? 0);
      ws.close();
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", (err) => reject(err));
  });
}

for (const db of testDatabases()) {
  describe(`graphql-ws signed in with the browser session cookie (${db.name})`, () => {
    let server: TestServer;
    const clients: Client[] = [];
    const open = (cookie: string | undefined, origin: string | undefined) => {
      const client = browserClient(server, cookie, origin);
      clients.push(client);
      return client;
    };
    const signedIn = async () => {
      const agent = await registerAgent(server.client);
      const page = new BrowserSession(server.url);
      await page.signIn(agent.apiKey);
      return { agent, page };
    };

    before(async () => {
      server = await startServer(db, { LIVE_KEY_RECHECK_MS: "50", WEB_ALLOWED_ORIGINS: ALLOWED });
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
    });
    after(() => server.stop());

    it("receives the agent's task events on a connection opened from the server's own origin with the cookie alone", async () => {
      const { agent, page } = await signedIn();
      const before = server.app.services.live.subscriberCount;
      const feed = subscribe(open(page.cookie, server.url), AGENT_FEED);
      await subscribersReach(server, before + 1);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await feed.until((r) => r.results.some((result) => result.tasksUpdated.taskId === postTask.id));
      expect(feed.results[0].tasksUpdated).to.include({ taskId: postTask.id, status: "POSTED" });
    });

    it("accepts an origin from WEB_ALLOWED_ORIGINS", async () => {
      const { page } = await signedIn();
      expect(await upgradeStatus(server, { cookie: `humanops_session=${page.cookie}`, origin: ALLOWED })).to.equal(101);
    });

    it("refuses the upgrade (403) when the cookie comes from another origin or with no Origin at all", async () => {
      const { page } = await signedIn();
      const cookie = `humanops_session=${page.cookie}`;
      expect(await upgradeStatus(server, { cookie, origin: "https://evil.example" })).to.equal(403);
      expect(await upgradeStatus(server, { cookie })).to.equal(403);
      expect(await upgradeStatus(server, { cookie, origin: server.url.replace("127.0.0.1", "127.0.0.2") })).to.equal(403);
      // A client with a key and no cookie is unchanged: no Origin needed.
      expect(await upgradeStatus(server, {})).to.equal(101);

      const refused = subscribe(open(page.cookie, "https://evil.example"), AGENT_FEED);
      await refused.ended();
      expect(refused.results).to.deep.equal([]);
    });

    it("closes the connection (4403) when the session is signed out or its key revoked", async () => {
      const first = await signedIn();
      const before = server.app.services.live.subscriberCount;
      const feed = subscribe(open(first.page.cookie, server.url), AGENT_FEED);
      await subscribersReach(server, before + 1);
      expect((await first.page.fetch("/auth/session", { method: "DELETE" })).status).to.equal(204);
      await feed.ended();
      expect(isCloseEvent(feed.errors) && feed.errors.code).to.equal(4403);

      const second = await signedIn();
      const revoked = subscribe(open(second.page.cookie, server.url), AGENT_FEED);
      await subscribersReach(server, before + 1);
      await server.app.orm.em.fork().nativeUpdate(ApiKey, { agent: second.agent.id }, { revokedAt: new Date() });
      await revoked.ended();
      expect(isCloseEvent(revoked.errors) && revoked.errors.code).to.equal(4403);
      await eventually(() => server.app.services.live.subscriberCount === before, "the ended subscriptions to go");
    });

    it("keeps the session of an open connection from idling out, up to its absolute end", async () => {
      // The server's clock is stopped, then moved forward instead of the test waiting for the timeouts.
      const clock = new TestClock();
      const short = await startServer(db, { LIVE_KEY_RECHECK_MS: "50", SESSION_IDLE_TIMEOUT_S: "1", SESSION_MAX_AGE_S: "3" }, undefined, { clock });
      const client: { value?: Client } = {};
      try {
        const agent = await registerAgent(short.client);
        const page = new BrowserSession(short.url);
        clock.freeze();
        const signedInAt = clock.now();
        await page.signIn(agent.apiKey);
        const feed = subscribe((client.value = browserClient(short, page.cookie, short.url)), AGENT_FEED);
        await subscribersReach(short, 1);
        // Time passes 300 ms at a time, each step short of the idle timeout: the open connection marks its session used at each.
        for (let passed = 300; passed < 3_000; passed += 300) {
          clock.advance(300);
          const at = clock.now();
          await eventually(async () => (await short.app.orm.em.fork().find(SessionRow, {}))[0]?.lastUsedAt === at, `the connection to keep its session ${passed} ms after sign-in`);
          if (passed === 1_500) {
            expect(feed.errors, "still open past the idle timeout").to.equal(undefined);
            expect((await page.fetch("/auth/session")).status, "and the session with it").to.equal(200);
          }
        }
        expect(feed.errors, "open until the absolute end").to.equal(undefined);
        clock.advanceTo(signedInAt + 3_000);
        await feed.ended();
        expect(isCloseEvent(feed.errors) && feed.errors.code, "closed at the absolute end").to.equal(4403);
      } finally {
        await client.value?.dispose();
        await short.stop();
      }
    });

    it("closes a connection with a cookie that no longer signs in (4403)", async () => {
      const { page } = await signedIn();
      const stale = page.cookie;
      await page.fetch("/auth/session", { method: "DELETE" });
      const feed = subscribe(open(stale, server.url), AGENT_FEED);
      await feed.ended();
      expect(isCloseEvent(feed.errors) && feed.errors.code).to.equal(4403);
    });

    it("refuses an admin's session (4403): admins follow no tasks, as with an admin key", async () => {
      const { key } = await server.app.services.admins.create(server.app.orm.em.fork(), `ws-admin-${Date.now().toString(36)}`);
      const page = new BrowserSession(server.url);
      expect((await page.signIn(key)).status).to.equal(200);
      const feed = subscribe(open(page.cookie, server.url), AGENT_FEED);
      await feed.ended();
      expect(isCloseEvent(feed.errors) && feed.errors.code).to.equal(4403);
      expect(isCloseEvent(feed.errors) && feed.errors.reason).to.match(/admin's session has no subscriptions/);
    });
  });
}
