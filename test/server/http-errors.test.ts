import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { createLogger } from "../../server/common/logger";

/** A secret a careless client put in a body that is not JSON: it must come back in no answer and reach no log line. */
const SECRET = "ho_test_s3cr3t-in-a-broken-body";
const MAX_BODY = 2048;

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: any;
}

/** Every answer is JSON without a trace of the server's insides. */
function expectClean(answer: Answer): void {
  expect(answer.contentType, answer.text).to.match(/^application\/json/);
  expect(answer.text).not.to.match(/<html|<pre>|\bat .+\(|node_modules|\/work\/|\.ts:\d+/i);
  expect(answer.text).not.to.include(SECRET);
}

function expectGraphQLError(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.text).to.equal(status);
  expectClean(answer);
  expect(answer.body.errors).to.have.length(1);
  expect(answer.body.errors[0].extensions.code).to.equal(code);
  expect(answer.body.errors[0].message).to.be.a("string").and.not.empty;
}

describe("the log never holds a request body", () => {
  it("redacts the raw body express's body parsers keep on their errors", () => {
    const lines: string[] = [];
    const log = createLogger("info", { write: (line: string) => void lines.push(line) });
    log.error({ err: Object.assign(new SyntaxError("Unexpected token"), { body: SECRET, type: "entity.parse.failed" }) }, "failed");
    log.warn({ body: SECRET }, "a body");
    expect(lines).to.have.length(2);
    expect(lines.join("\n")).not.to.include(SECRET);
  });
});

for (const nodeEnv of ["development", "production"]) {
  const [db] = testDatabases();
  describe(`every route answers errors as JSON, with nothing from the request or the server's insides (NODE_ENV=${nodeEnv})`, () => {
    let server: TestServer;
    const lines: string[] = [];
    const previousEnv = process.env.NODE_ENV;

    before(async () => {
      // Express picks its error page (stack traces or not) from NODE_ENV at start.
      process.env.NODE_ENV = nodeEnv;
      const log = createLogger("debug", { write: (line: string) => void lines.push(line) });
      server = await startServer(db, { MAX_JSON_BODY_BYTES: String(MAX_BODY), LOG_LEVEL: "debug" }, log);
    });
    after(async () => {
      await server.stop();
      process.env.NODE_ENV = previousEnv;
    });
    afterEach(() => {
      expect(lines.filter((line) => line.includes(SECRET)), "no log line holds the request body").to.deep.equal([]);
    });

    const send = async (path: string, init: RequestInit = {}): Promise<Answer> => {
      const res = await fetch(`${server.url}${path}`, init);
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, body };
    };
    const postGraphQL = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
      send("/graphql", { method: "POST", headers, body });

    it("/graphql: a body that is not JSON is 400 in GraphQL's error shape", async () => {
      expectGraphQLError(await postGraphQL(`{"query": "{ viewerAgent { id } }", "apiKey": "${SECRET}`), 400, "BAD_USER_INPUT");
      expectGraphQLError(await postGraphQL(`"${SECRET}"`), 400, "BAD_USER_INPUT");
    });

    it("/graphql: a body over the limit is 413, a foreign charset or encoding 415, another Content-Type 415", async () => {
      const big = await postGraphQL(JSON.stringify({ query: "{ __typename }", variables: { filler: `${SECRET}${"x".repeat(MAX_BODY)}` } }));
      expectGraphQLError(big, 413, "PAYLOAD_TOO_LARGE");
      expect(big.body.errors[0].message).to.include(String(MAX_BODY));
      expectGraphQLError(await postGraphQL("{}", { "content-type": "application/json; charset=latin9" }), 415, "UNSUPPORTED_MEDIA_TYPE");
      expectGraphQLError(await postGraphQL(SECRET, { "content-type": "application/json", "content-encoding": "compress" }), 415, "UNSUPPORTED_MEDIA_TYPE");
      expectGraphQLError(await postGraphQL(`{"query":"{ __typename }","x":"${SECRET}"}`, { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
      expectGraphQLError(await postGraphQL(`<q>${SECRET}</q>`, { "content-type": "application/xml" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    });

    it("/graphql still answers a well-formed request", async () => {
      const answer = await postGraphQL(JSON.stringify({ query: "{ __typename }" }));
      expect([answer.status, answer.body]).to.deep.equal([200, { data: { __typename: "Query" } }]);
    });

    it("REST and /mcp keep their own JSON error shapes for bodies that cannot be read", async () => {
      const rest = await send("/api/v1/tasks", { method: "POST", headers: { "content-type": "application/json", "x-api-key": "ho_test_x" }, body: `{"${SECRET}` });
      expect(rest.status).to.be.oneOf([400, 401]);
      expectClean(rest);
      expect(rest.body.error.code).to.be.a("string");
      const mcp = await send("/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: `{"${SECRET}` });
      expect(mcp.status).to.equal(400);
      expectClean(mcp);
      expect(mcp.body).to.deep.include({ jsonrpc: "2.0", error: { code: -32700, message: "body: is not valid JSON" } });
    });

    it("unknown paths and methods are a JSON 404, /healthz stays JSON", async () => {
      for (const [method, path] of [["GET", "/nope"], ["POST", "/healthz"], ["GET", "/%E0%A4%A"], ["DELETE", "/"], ["POST", "/api"]]) {
        const answer = await send(path, { method });
        expect(answer.status, `${method} ${path}`).to.equal(404);
        expectClean(answer);
        expect(answer.body.error.code).to.equal("NOT_FOUND");
      }
      const health = await send("/healthz");
      expect([health.status, health.body]).to.deep.equal([200, { status: "ok" }]);
    });
  });
}
