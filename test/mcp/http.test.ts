import { expect } from "chai";
import { createLogger } from "../../server/common/logger";
import { testDatabases } from "../support/databases";
import { registerAgent } from "../support/fixtures";
import { startServer, type TestServer } from "../support/server";
import { httpConnector } from "./support/connections";
import { toolScenarios } from "./support/tool-scenarios";

const INITIALIZE = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const LIST_TOOLS = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };

async function rpc(url: string, body: unknown, headers: Record<string, string> = {}, method = "POST"): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/mcp`, {
    method,
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: method === "POST" ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

// The MCP layer holds no data of its own: it runs the same GraphQL operations whichever database is behind
// them (those run on both in the core and REST suites), so one database keeps this suite quick.
{
  const [db] = testDatabases();
  describe(`MCP over Streamable HTTP at /mcp (${db.name})`, () => {
    let server: TestServer;
    const logLines: string[] = [];

    before(async () => {
      server = await startServer(db, {}, createLogger("debug", { write: (line: string) => void logLines.push(line) }));
    });
    after(() => server.stop());

    describe("every tool and resource", () => {
      toolScenarios(() => ({ server, connect: httpConnector(server.url), logs: () => logLines.join(""), adoptsRegisteredKey: false }));
    });

    describe("sessions and keys", () => {
      let apiKey: string;
      let sessionId: string;

      before(async () => {
        apiKey = (await registerAgent(server.client, "session-agent")).apiKey;
        const opened = await fetch(`${server.url}/mcp`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "x-api-key": apiKey },
          body: JSON.stringify(INITIALIZE),
        });
        expect(opened.status).to.equal(200);
        sessionId = opened.headers.get("mcp-session-id")!;
        await opened.text();
      });

      it("refuses to open a session with a key HumanOps does not know: 401, without echoing the key", async () => {
        const forged = `ho_test_${"A".repeat(43)}`;
        const res = await rpc(server.url, INITIALIZE, { "x-api-key": forged });
        expect(res.status).to.equal(401);
        expect(res.body.error.code).to.equal(-32001);
        expect(JSON.stringify(res.body)).to.not.contain(forged);
        const malformed = await rpc(server.url, INITIALIZE, { authorization: "Bearer nonsense" });
        expect(malformed.status).to.equal(401);
        expect(malformed.body.error.message).to.contain("malformed");
      });

      it("accepts the key as Authorization: Bearer too", async () => {
        const res = await rpc(server.url, INITIALIZE, { authorization: `Bearer ${apiKey}` });
        expect(res.status).to.equal(200);
      });

      it("answers a session only with the key it was opened with", async () => {
        const other = (await registerAgent(server.client, "intruder")).apiKey;
        expect((await rpc(server.url, LIST_TOOLS, { "mcp-session-id": sessionId, "x-api-key": other })).status).to.equal(403);
        expect((await rpc(server.url, LIST_TOOLS, { "mcp-session-id": sessionId })).status).to.equal(403);
        expect((await rpc(server.url, LIST_TOOLS, { "mcp-session-id": sessionId, "x-api-key": apiKey })).status).to.equal(200);
      });

      it("needs a session for anything but initialize, and forgets a session once it is deleted", async () => {
        expect((await rpc(server.url, LIST_TOOLS, { "x-api-key": apiKey })).status).to.equal(400);
        expect((await rpc(server.url, LIST_TOOLS, { "mcp-session-id": "no-such-session", "x-api-key": apiKey })).status).to.equal(404);
        expect((await rpc(server.url, undefined, { "mcp-session-id": sessionId, "x-api-key": apiKey }, "DELETE")).status).to.equal(200);
        expect((await rpc(server.url, LIST_TOOLS, { "mcp-session-id": sessionId, "x-api-key": apiKey })).status).to.equal(404);
      });

      it("answers a body that is not JSON with a JSON-RPC parse error", async () => {
        const res = await fetch(`${server.url}/mcp`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": apiKey }, body: "{not json" });
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { error: { code: number } }).error.code).to.equal(-32700);
      });
    });
  });
}
