import { expect } from "chai";
import { testDatabases, type TestDatabase } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { BrowserSession } from "../support/browser";
import { POST_TASK, registerAgent, registerOperator, taskInput } from "../support/fixtures";
import { proofForm } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { ApiKey } from "../../server/agents/api-key.entity";
import { BrowserSession as SessionRow } from "../../server/sessions/browser-session.entity";
import { createLogger, type Logger } from "../../server/common/logger";
import { Job } from "../../server/jobs/job.entity";
import { SessionJobs } from "../../server/sessions/session.service";
import { LogCapture } from "../live/support/live";
import { TestClock } from "../support/clock";

const VIEWER = `{ viewerAgent { id name } }`;
/** A JSON answer, read as the untyped object a test inspects. */
const json = (res: Response): Promise<any> => res.json();

/** Runs `test` against a server of its own with these settings, stopped afterwards. */
async function withServer(db: TestDatabase, env: Record<string, string>, test: (server: TestServer) => Promise<void>, log?: Logger, clock?: TestClock): Promise<void> {
  const server = await startServer(db, env, log, { clock });
  try {
    await test(server);
  } finally {
    await server.stop();
  }
}

async function revokeKeysOf(server: TestServer, owner: { agent: string } | { operator: string }): Promise<void> {
  // Through the key service, as an administrator's revocation goes: it also drops the callers this replica cached.
  const em = server.app.orm.em.fork();
  for (const key of await em.find(ApiKey, owner)) await server.app.services.keys.revoke(em, key.id);
}

for (const db of testDatabases()) {
  describe(`browser sessions: an API key exchanged for a cookie (${db.name})`, () => {
    let server: TestServer;
    const browser = () => new BrowserSession(server.url);

    before(async () => {
      server = await startServer(db);
    });
    after(() => server.stop());

    it("signs in with a key: an httpOnly SameSite=Lax cookie of its own (not the key), who signed in and a CSRF token", async () => {
      const agent = await registerAgent(server.client, "Ada");
      const page = browser();
      const res = await page.signIn(agent.apiKey);
      expect(res.status).to.equal(200);
      expect(res.headers.get("cache-control")).to.equal("no-store");
      const body = await json(res);
      expect(body).to.include({ role: "agent", id: agent.id, name: "Ada", mode: "test" });
      expect(body.csrf_token).to.be.a("string").with.length.above(20);
      const expiresIn = Date.parse(body.expires_at) - Date.now();
      expect(expiresIn, "the idle timeout (3 days by default)").to.be.within(3 * 86_400_000 - 60_000, 3 * 86_400_000);

      const [cookie] = page.setCookies;
      expect(cookie).to.match(/^humanops_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).to.include("HttpOnly").and.include("SameSite=Lax").and.include("Path=/").and.match(/Max-Age=\d+/);
      expect(cookie, "plain http: no Secure").not.to.include("Secure");
      expect(Number(/Max-Age=(\d+)/.exec(cookie)![1]), "the absolute lifetime (30 days by default)").to.be.within(30 * 86_400 - 60, 30 * 86_400);
      expect(cookie).not.to.include(agent.apiKey);
      expect(page.cookie).not.to.equal(agent.apiKey);

      const rows = await server.app.orm.em.fork().find(SessionRow, {});
      expect(rows.map((row) => row.tokenHash), "only a hash of the token is stored").not.to.include(page.cookie);
    });

    it("answers GET /auth/session for the cookie, and 401 without one", async () => {
      const operator = await registerOperator(server.client, "Olu");
      const page = browser();
      await page.signIn(operator.testApiKey);
      const read = await page.fetch("/auth/session");
      expect(read.status).to.equal(200);
      const body = await json(read);
      expect(body).to.include({ role: "operator", id: operator.id, name: "Olu", mode: "test", csrf_token: page.csrfToken });

      const none = await browser().fetch("/auth/session");
      expect(none.status).to.equal(401);
      expect((await json(none)).error).to.include({ code: "UNAUTHENTICATED" });
    });

    it("refuses a bad key (401), a missing api_key (400 naming it) and a body that is not JSON (415), in the REST error shape", async () => {
      const bad = await browser().signIn(`ho_test_${"A".repeat(43)}`);
      expect(bad.status).to.equal(401);
      expect((await json(bad)).error).to.deep.include({ code: "UNAUTHENTICATED", message: "the API key is not valid or has been revoked" });
      expect(bad.headers.getSetCookie()).to.deep.equal([]);

      const missing = await browser().fetch("/auth/session", { method: "POST", json: {} });
      expect(missing.status).to.equal(400);
      expect((await json(missing)).error).to.include({ code: "BAD_USER_INPUT", field: "api_key" });

      const form = await fetch(`${server.url}/auth/session`, { method: "POST", headers: { "content-type": "text/plain" }, body: "api_key=x" });
      expect(form.status).to.equal(415);
      expect((await json(form)).error.code).to.equal("UNSUPPORTED_MEDIA_TYPE");
    });

    it("signs out with DELETE and the CSRF token: 204, the cookie cleared, and the session dead on the server", async () => {
      const agent = await registerAgent(server.client);
      const page = browser();
      await page.signIn(agent.apiKey);
      const stolen = page.cookie;

      const forged = await page.fetch("/auth/session", { method: "DELETE", csrf: false });
      expect(forged.status).to.equal(403);
      expect((await json(forged)).error).to.include({ code: "CSRF_TOKEN_INVALID", field: "X-CSRF-Token" });
      expect((await page.fetch("/auth/session")).status, "still signed in").to.equal(200);

      const out = await page.fetch("/auth/session", { method: "DELETE" });
      expect(out.status).to.equal(204);
      expect(page.setCookies[0]).to.match(/^humanops_session=;/);
      expect(page.cookie).to.equal(undefined);

      // The old cookie value, replayed, signs nothing in anywhere.
      page.cookie = stolen;
      expect((await page.fetch("/auth/session")).status).to.equal(401);
      page.cookie = stolen;
      const replay = await page.graphql(VIEWER);
      expect(replay.body.errors[0].extensions.code).to.equal("UNAUTHENTICATED");
      expect(replay.body.errors[0].message).to.match(/session has expired or was signed out/);
      expect(page.cookie, "the stale cookie is cleared").to.equal(undefined);
    });

    it("is the key's principal on /graphql: queries and mutations need the X-CSRF-Token, API keys need none", async () => {
      const agent = await registerAgent(server.client, "Grace");
      const page = browser();
      await page.signIn(agent.apiKey);

      const query = await page.graphql(VIEWER);
      expect(query.status).to.equal(200);
      expect(query.body.data.viewerAgent).to.deep.equal({ id: agent.id, name: "Grace" });

      const noToken = await page.graphql(VIEWER, {}, { csrf: false });
      expect(noToken.status).to.equal(403);
      expect(noToken.body.errors[0].extensions).to.include({ code: "CSRF_TOKEN_INVALID", field: "X-CSRF-Token" });
      expect(noToken.body.errors[0].message).to.include("X-CSRF-Token header is missing");
      const wrongToken = await page.graphql(POST_TASK, { input: taskInput() }, { csrf: "x".repeat(43) });
      expect(wrongToken.status).to.equal(403);
      expect(wrongToken.body.errors[0].message).to.include("does not match this session");

      const posted = await page.graphql(POST_TASK, { input: taskInput({ title: "Posted from the browser" }) });
      expect(posted.body.errors).to.equal(undefined);
      expect(posted.body.data.postTask).to.include({ title: "Posted from the browser", status: "POSTED" });
      const { tasks } = await server.client.ok(`{ tasks { nodes { id } } }`, {}, agent.apiKey);
      expect(tasks.nodes.map((task: any) => task.id), "posted as the key's agent").to.include(posted.body.data.postTask.id);

      // A key wins over a cookie, and is used exactly as before: no CSRF token.
      const other = await registerAgent(server.client, "keyholder");
      const withKey = await page.fetch("/graphql", { method: "POST", json: { query: VIEWER }, csrf: false, headers: { "x-api-key": other.apiKey } });
      expect((await json(withKey)).data.viewerAgent.name).to.equal("keyholder");
    });

    it("is the key's principal on REST, the multipart proof upload included, with the CSRF token on writes", async () => {
      const agent = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const page = browser();
      await page.signIn(operator.testApiKey);

      const nearby = await page.fetch("/api/v1/operators/tasks/available?lat=30.27&lng=-97.74&radius_km=5", { csrf: false });
      expect(nearby.status, "a GET needs no CSRF token").to.equal(200);
      expect((await json(nearby)).tasks.map((t: any) => t.task_id)).to.include(postTask.id);

      const refused = await page.fetch(`/api/v1/tasks/${postTask.id}/accept`, { method: "POST", csrf: false });
      expect(refused.status).to.equal(403);
      expect((await json(refused)).error).to.include({ code: "CSRF_TOKEN_INVALID", field: "X-CSRF-Token" });
      const accepted = await page.fetch(`/api/v1/tasks/${postTask.id}/accept`, { method: "POST" });
      expect(accepted.status).to.equal(200);
      expect(await json(accepted)).to.include({ status: "ACCEPTED", operator_id: operator.id });

      const form = proofForm([generatePhoto(21), generatePhoto(22)], "uploaded from the phone");
      const upload = await page.fetch(`/api/v1/tasks/${postTask.id}/proof`, { method: "POST", body: form });
      expect(upload.status).to.equal(202);
      const body = await json(upload);
      expect(body).to.include({ status: "SUBMITTED", attempts: 1 });
      expect(body.proof.notes).to.equal("uploaded from the phone");
    });

    it("dies with its key: a revoked key's session signs nothing in", async () => {
      const agent = await registerAgent(server.client);
      const page = browser();
      await page.signIn(agent.apiKey);
      expect((await page.graphql(VIEWER)).body.data.viewerAgent.id).to.equal(agent.id);

      await revokeKeysOf(server, { agent: agent.id });
      const cookie = page.cookie;
      expect((await page.fetch("/auth/session")).status).to.equal(401);
      page.cookie = cookie;
      const after = await page.graphql(VIEWER);
      expect(after.body.errors[0].extensions.code).to.equal("UNAUTHENTICATED");
      expect((await browser().signIn(agent.apiKey)).status, "nor can the revoked key sign in again").to.equal(401);

      expect(await server.app.services.sessions.sweep(server.app.orm.em.fork()), "the sweep removes the revoked key's session").to.be.at.least(1);
    });

    it("signs a platform admin in with an admin key: the admin operations only, with the CSRF token, until the admin is revoked", async () => {
      const name = `admin-${Date.now().toString(36)}`;
      const { admin, key } = await server.app.services.admins.create(server.app.orm.em.fork(), name);
      const page = browser();
      const res = await page.signIn(key);
      expect(res.status).to.equal(200);
      expect(await json(res)).to.include({ role: "admin", id: admin.id, name, mode: "live" });
      expect(page.setCookies[0]).not.to.include(key);
      const row = await server.app.orm.em.fork().findOneOrFail(SessionRow, { admin: admin.id });
      expect(row.key, "an admin's session has no API key").to.equal(null);

      const DISPUTES = `{ disputes(first: 5) { nodes { id } } adminAuditLog(first: 5) { nodes { action adminName } } }`;
      const read = await page.graphql(DISPUTES);
      expect(read.body.errors).to.equal(undefined);
      expect(read.body.data.adminAuditLog.nodes.map((entry: any) => entry.action)).to.include("ADMIN_CREATED");
      const decide = `mutation { decideDispute(taskId: "00000000-0000-4000-8000-000000000000", decision: REFUND, note: "n") { id } }`;
      expect((await page.graphql(decide, {}, { csrf: false })).body.errors[0].extensions.code, "writes need the CSRF token").to.equal("CSRF_TOKEN_INVALID");
      expect((await page.graphql(decide)).body.errors[0].extensions.code, "the admin operation runs (and finds no such dispute)").to.equal("NOT_FOUND");
      // As with the admin key itself: an agent's operation is refused, and the REST admin routes answer.
      expect((await page.graphql(POST_TASK, { input: taskInput() })).body.errors[0].extensions.code).to.equal("FORBIDDEN");
      expect((await page.fetch("/api/v1/admin/audit-log?limit=5", { csrf: false })).status).to.equal(200);

      // An agent's session is not an admin.
      const agent = await registerAgent(server.client);
      const agentPage = browser();
      await agentPage.signIn(agent.apiKey);
      expect((await agentPage.graphql(DISPUTES)).body.errors[0].extensions.code).to.equal("FORBIDDEN");

      await server.app.services.admins.revoke(server.app.orm.em.fork(), name);
      expect((await page.graphql(DISPUTES)).body.errors[0].extensions.code, "a revoked admin's session signs nothing in").to.equal("UNAUTHENTICATED");
      expect((await browser().signIn(key)).status).to.equal(401);
      expect(await server.app.services.sessions.sweep(server.app.orm.em.fork()), "the sweep removes the revoked admin's session").to.be.at.least(1);
    });
  });
}

for (const db of testDatabases()) {
  describe(`browser sessions: expiry, rate budget, restarts and logs (${db.name})`, () => {
    it("ends a session unused for SESSION_IDLE_TIMEOUT_S, and one in use at SESSION_MAX_AGE_S; the sweep deletes both", async () => {
      // The server's clock is stopped, then moved forward instead of the test waiting for the timeouts.
      const clock = new TestClock();
      await withServer(
        db,
        { SESSION_IDLE_TIMEOUT_S: "1", SESSION_MAX_AGE_S: "2" },
        async (server) => {
          const agent = await registerAgent(server.client);
          const idle = new BrowserSession(server.url);
          const busy = new BrowserSession(server.url);
          clock.freeze();
          const started = clock.now();
          await idle.signIn(agent.apiKey);
          await busy.signIn(agent.apiKey);
          const idleCookie = idle.cookie;
          // The busy one is used every 300 ms, which keeps it from idling out but not past its absolute end.
          for (let used = 0; used < 5; used++) {
            expect((await busy.graphql(VIEWER)).body.data.viewerAgent.id).to.equal(agent.id);
            clock.advance(300);
          }
          idle.cookie = idleCookie;
          expect((await idle.fetch("/auth/session")).status, "idle for more than a second").to.equal(401);
          expect((await busy.fetch("/auth/session")).status, "still in use").to.equal(200);
          clock.advanceTo(started + 2_100);
          const ended = await busy.graphql(VIEWER);
          expect(ended.body.errors[0].extensions.code, "two seconds after sign-in, however busy").to.equal("UNAUTHENTICATED");
          expect(await server.app.services.sessions.sweep(server.app.orm.em.fork())).to.equal(2);
          expect(await server.app.orm.em.fork().count(SessionRow, {})).to.equal(0);
        },
        undefined,
        clock,
      );
    });

    it("marks the cookie Secure when the request came over https through a trusted proxy", async () => {
      await withServer(db, { TRUST_PROXY: "loopback" }, async (server) => {
        const agent = await registerAgent(server.client);
        const page = new BrowserSession(server.url);
        const res = await page.fetch("/auth/session", { method: "POST", json: { api_key: agent.apiKey }, headers: { "x-forwarded-proto": "https" } });
        expect(res.status).to.equal(200);
        expect(page.setCookies[0]).to.match(/; Secure(;|$)/);
        expect(await server.app.orm.em.fork().count(Job, { kind: SessionJobs.sweep }), "the hourly sweep is scheduled").to.equal(1);
      });
    });

    it("draws on its key's rate budget: the cookie and the key share one", async () => {
      await withServer(db, { RATE_LIMIT_TEST_PER_MINUTE: "3" }, async (server) => {
        const agent = await registerAgent(server.client);
        const page = new BrowserSession(server.url);
        expect((await page.signIn(agent.apiKey)).status, "signing in draws on the client address's budget").to.equal(200);
        expect((await server.client.request(VIEWER, {}, agent.apiKey)).status).to.equal(200);
        const viaCookie = await page.fetch("/graphql", { method: "POST", json: { query: VIEWER } });
        expect(viaCookie.status).to.equal(200);
        expect(viaCookie.headers.get("x-ratelimit-remaining")).to.equal("1");
        const rest = await page.fetch("/api/v1/agents/balance");
        expect(rest.status).to.equal(200);
        expect(rest.headers.get("x-ratelimit-remaining")).to.equal("0");
        const refused = await page.graphql(VIEWER);
        expect(refused.status).to.equal(429);
        expect(refused.body.errors[0].extensions.code).to.equal("RATE_LIMITED");
        expect((await server.client.request(VIEWER, {}, agent.apiKey)).status, "and the key is spent out too").to.equal(429);
      });
    });

    it("survives a restart: the session lives in the database, not in the process", async () => {
      const created = await db.create();
      // A SQLite database is a file too (test/support/databases.ts): both servers open it.
      const { database } = created;
      let server = await startServer({ database });
      try {
        const agent = await registerAgent(server.client);
        const page = new BrowserSession(server.url);
        await page.signIn(agent.apiKey);
        await server.stop();
        server = await startServer({ database });
        page.url = server.url;
        const read = await page.fetch("/auth/session");
        expect(read.status).to.equal(200);
        expect(await json(read)).to.include({ id: agent.id, csrf_token: page.csrfToken });
        expect((await page.graphql(VIEWER)).body.data.viewerAgent.id).to.equal(agent.id);
      } finally {
        await server.stop();
        await created.drop();
      }
    });

    it("never logs the API key, the session token or the CSRF token", async () => {
      const logs = new LogCapture();
      await withServer(
        db,
        {},
        async (server) => {
          const agent = await registerAgent(server.client);
          const page = new BrowserSession(server.url);
          await page.signIn(agent.apiKey);
          const token = page.cookie!;
          await page.graphql(VIEWER);
          await page.graphql(VIEWER, {}, { csrf: "forged" });
          await page.graphql(`{ nope }`);
          await page.fetch("/api/v1/agents/balance");
          await page.fetch("/auth/session", { method: "DELETE" });
          await new BrowserSession(server.url).signIn(`ho_test_${"B".repeat(43)}`);
          expect(logs.lines.length, "the server did log at trace level").to.be.above(0);
          for (const secret of [agent.apiKey, token, page.csrfToken!]) expect(logs.includes(secret)).to.equal(false);
        },
        createLogger("trace", logs),
      );
    });
  });
}
