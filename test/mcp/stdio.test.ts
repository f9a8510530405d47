import { execFile } from "node:child_process";
import os from "node:os";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { builtStdioServer } from "./support/built-server";
import { stdioConnector } from "./support/connections";
import { toolScenarios } from "./support/tool-scenarios";

/** Runs the built server with only the given env and stdin closed; resolves with its exit code and stderr. */
function runBuilt(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [entry], { env: { PATH: process.env.PATH ?? "", ...env }, cwd: os.tmpdir() }, (err, _stdout, stderr) =>
      resolve({ code: err ? (err as { code?: number }).code ?? null : 0, stderr }),
    );
    child.stdin?.end();
  });
}

describe("MCP over stdio: the built packages/mcp-server/dist/index.js, spawned as Claude Desktop does", () => {
  let entry: string;

  before(function () {
    this.timeout(180_000);
    entry = builtStdioServer();
  });

  // The stdio server only speaks HTTP to HumanOps, so the database behind it does not matter; SQLite keeps this quick.
  describe("against a HumanOps in test mode, HUMANOPS_API_URL without a path (sqlite)", () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(testDatabases()[0]);
    });
    after(() => server.stop());

    toolScenarios(() => ({ server, connect: stdioConnector(entry, server.url), logs: () => "", adoptsRegisteredKey: true }));
  });

  it("refuses to start on a plain-http URL that is not loopback, naming the variable and the rule (exit 78)", async () => {
    const key = `ho_test_${"k".repeat(43)}`;
    const { code, stderr } = await runBuilt(entry, { HUMANOPS_API_URL: "http://api.humanops.io", HUMANOPS_API_KEY: key });
    expect(code).to.equal(78);
    expect(stderr).to.contain("HUMANOPS_API_URL: must be https://");
    expect(stderr).to.not.contain(key);
  });

  it("with an unreachable API, tools answer with isError that names the URL to check", async () => {
    const connect = stdioConnector(entry, "http://127.0.0.1:9");
    const mcp = await connect(`ho_test_${"k".repeat(43)}`);
    try {
      const result = await mcp.call("get_balance");
      expect(result.isError).to.equal(true);
      expect((result.content[0] as { text: string }).text).to.match(/^UNAVAILABLE: could not reach HumanOps at http:\/\/127\.0\.0\.1:9 .*Check HUMANOPS_API_URL/);
    } finally {
      await mcp.close();
    }
  });
});
