import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createMcpServer } from "../../server/mcp/server";
import type { GraphQLBackend } from "../../server/mcp/graphql.backend";

const SNAPSHOT = path.join(__dirname, "tools-list.snapshot.json");

/** Listing tools calls no GraphQL; a backend that is used fails the test. */
const unusedBackend: GraphQLBackend = {
  keyInstructions: "",
  execute: () => Promise.reject(new Error("tools/list must not call the API")),
};

describe("MCP tools/list", () => {
  it("matches the checked-in snapshot, so a change to a tool's contract shows in review (UPDATE_MCP_SNAPSHOT=1 rewrites it)", async () => {
    const server = createMcpServer(unusedBackend);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "snapshot", version: "1.0.0" });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    const listed = `${JSON.stringify(await client.listTools(), null, 2)}\n`;
    await client.close();
    if (process.env.UPDATE_MCP_SNAPSHOT === "1") fs.writeFileSync(SNAPSHOT, listed);
    expect(listed).to.equal(fs.readFileSync(SNAPSHOT, "utf8"));
  });
});
