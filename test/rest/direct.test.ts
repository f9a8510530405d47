import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody } from "../support/rest-client";

interface Answer {
  status: number;
  headers: Record<string, string | null>;
  body: string;
}

/**
 * A REST GET whose path is exactly a route's is answered before express's
 * router; the same path with a trailing slash (which express's router also
 * matches) goes through express. Both must answer alike: status, body and
 * the headers a client reads, refusals included.
 */
for (const db of testDatabases()) {
  describe(`REST GET answered directly and through express alike (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let apiKey: string;
    let taskId: string;

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      ({ apiKey } = await rest.registerAgent("direct-rest"));
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), apiKey);
      taskId = created.body.task_id;
    });
    after(async () => {
      await server?.stop();
    });

    async function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
      const res = await fetch(`${server.url}${path}`, { headers });
      const picked: Record<string, string | null> = {};
      for (const name of ["content-type", "etag", "cache-control", "x-ratelimit-limit", "retry-after", "set-cookie", "x-powered-by"]) picked[name] = res.headers.get(name);
      return { status: res.status, headers: picked, body: (await res.text()).replace(/reference [0-9a-f-]{36}/g, "reference R") };
    }

    /** The path through express (a trailing slash before any query string) and directly: equal. */
    async function expectAlike(path: string, headers: Record<string, string> = {}): Promise<Answer> {
      const [pathname, query] = path.split("?");
      const viaExpress = await get(`${pathname}/${query === undefined ? "" : `?${query}`}`, headers);
      const direct = await get(path, headers);
      expect(direct, path).to.deep.equal(viaExpress);
      return direct;
    }

    it("answers a task, the agent's list with its query string and the balance alike: status, body, Content-Type, ETag, rate headers", async () => {
      const task = await expectAlike(`/api/v1/tasks/${taskId}`, { "x-api-key": apiKey });
      expect(task.status).to.equal(200);
      expect(JSON.parse(task.body).task_id).to.equal(taskId);
      expect(task.headers["x-ratelimit-limit"]).to.equal("100000");
      expect(task.headers.etag).to.be.a("string");
      const list = await expectAlike("/api/v1/tasks?limit=1&status=POSTED", { "x-api-key": apiKey });
      expect(JSON.parse(list.body).tasks).to.have.length(1);
      expect((await expectAlike("/api/v1/agents/balance", { "x-api-key": apiKey })).status).to.equal(200);
    });

    it("answers a fresh If-None-Match with 304 alike", async () => {
      const { headers } = await get(`/api/v1/tasks/${taskId}`, { "x-api-key": apiKey });
      // fetch adds Cache-Control: no-cache beside If-None-Match (which would make express answer 200) unless one is given.
      const notModified = await expectAlike(`/api/v1/tasks/${taskId}`, { "x-api-key": apiKey, "if-none-match": headers.etag!, "cache-control": "max-age=0" });
      expect(notModified.status).to.equal(304);
    });

    it("answers refusals alike: no key, an unknown key, another agent's or a missing task, a bad query parameter", async () => {
      expect((await expectAlike(`/api/v1/tasks/${taskId}`)).status).to.equal(401);
      expect((await expectAlike(`/api/v1/tasks/${taskId}`, { "x-api-key": `ho_test_${"x".repeat(43)}` })).status).to.equal(401);
      const other = await rest.registerAgent("other");
      expect((await expectAlike(`/api/v1/tasks/${taskId}`, { "x-api-key": other.apiKey })).status).to.equal(404);
      expect((await expectAlike("/api/v1/tasks/00000000-0000-4000-8000-000000000000", { "x-api-key": apiKey })).status).to.equal(404);
      expect((await expectAlike("/api/v1/tasks/not-a-task", { "x-api-key": apiKey })).status).to.equal(404);
      const badLimit = await expectAlike("/api/v1/tasks?limit=0", { "x-api-key": apiKey });
      expect(badLimit.status).to.equal(400);
      expect(JSON.parse(badLimit.body).error.field).to.equal("limit");
    });
  });
}
