import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { ListToolsResult } from "@modelcontextprotocol/sdk/types.js";
import { createMcpServer } from "../../server/mcp/server";
import type { GraphQLBackend } from "../../server/mcp/graphql.backend";

const SNAPSHOT = path.join(__dirname, "tools-list.snapshot.json");

/** Listing tools calls no GraphQL; a backend that is used fails the test. */
const unusedBackend: GraphQLBackend = {
  keyInstructions: "",
  execute: () => Promise.reject(new Error("tools/list must not call the API")),
};

/**
 * What a host puts in its model's context for each tool is its name, title,
 * description, input schema and annotations (the Anthropic and OpenAI tool
 * formats carry nothing else); the output schema stays with the host, which
 * checks structuredContent against it. So the model's share has the tight
 * budget, and the whole listing (what every host downloads) a looser one.
 */
const BUDGET = { modelBytes: 16_000, modelAverageBytesPerTool: 1_000, listingBytes: 40_000 } as const;

/** A tool as the model sees it: everything but its output schema, as compact JSON. */
const modelShare = ({ outputSchema: _outputSchema, ...seen }: ListToolsResult["tools"][number]) => JSON.stringify(seen);

/** The example deadline is computed when the server starts (a week ahead), so the snapshot holds a placeholder for it. */
const EXAMPLE_DEADLINE = /\b(\d{4}-\d{2}-\d{2})T18:00:00Z\b/g;

async function listTools(): Promise<ListToolsResult> {
  const server = createMcpServer(unusedBackend);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "snapshot", version: "1.0.0" });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    return await client.listTools();
  } finally {
    await client.close();
  }
}

describe("MCP tools/list", () => {
  let listed: ListToolsResult;
  before(async () => {
    listed = await listTools();
  });

  it("matches the checked-in snapshot, so a change to a tool's contract shows in review (UPDATE_MCP_SNAPSHOT=1 rewrites it)", () => {
    const text = `${JSON.stringify(listed, null, 2)}\n`.replace(EXAMPLE_DEADLINE, "<a week ahead>T18:00:00Z");
    if (process.env.UPDATE_MCP_SNAPSHOT === "1") fs.writeFileSync(SNAPSHOT, text);
    expect(text).to.equal(fs.readFileSync(SNAPSHOT, "utf8"));
  });

  it(`fits a model's context: under ${BUDGET.modelBytes} bytes in all and ${BUDGET.modelAverageBytesPerTool} per tool on average, as a model sees the tools`, () => {
    const sizes = Object.fromEntries(listed.tools.map((tool) => [tool.name, Buffer.byteLength(modelShare(tool))]));
    const total = Object.values(sizes).reduce((sum, size) => sum + size, 0);
    expect(total, JSON.stringify(sizes)).to.be.below(BUDGET.modelBytes);
    expect(total / listed.tools.length, JSON.stringify(sizes)).to.be.below(BUDGET.modelAverageBytesPerTool);
  });

  it(`lists every tool with its output schema in under ${BUDGET.listingBytes} bytes`, () => {
    const sizes = Object.fromEntries(listed.tools.map((tool) => [tool.name, Buffer.byteLength(JSON.stringify(tool))]));
    expect(Buffer.byteLength(JSON.stringify(listed)), JSON.stringify(sizes)).to.be.below(BUDGET.listingBytes);
  });

  it("integer arguments carry their real bounds, not the platform's safe-integer range", () => {
    const integers = listed.tools.flatMap((tool) =>
      Object.entries(tool.inputSchema.properties ?? {})
        .filter(([, schema]) => (schema as { type?: string }).type === "integer")
        .map(([name, schema]) => ({ argument: `${tool.name}.${name}`, ...(schema as { minimum?: number; maximum?: number }) })),
    );
    expect(integers.map(({ argument, minimum, maximum }) => ({ argument, minimum, maximum }))).to.deep.equal([
      { argument: "post_task.max_attempts", minimum: 1, maximum: 10 },
      { argument: "post_task.accept_window_minutes", minimum: 5, maximum: 10080 },
      { argument: "post_task.min_completed_tasks", minimum: 0, maximum: 10000 },
      { argument: "post_task.review_window_minutes", minimum: 5, maximum: 10080 },
      { argument: "wait_for_task.timeout_seconds", minimum: 1, maximum: 3600 },
      { argument: "list_tasks.limit", minimum: 1, maximum: 100 },
      { argument: "get_messages.limit", minimum: 1, maximum: 100 },
      { argument: "rate_operator.score", minimum: 1, maximum: 5 },
    ]);
    expect(JSON.stringify(listed)).to.not.contain(String(Number.MAX_SAFE_INTEGER));
  });

  it("every date in a description or example is in the future", () => {
    const dates = [...JSON.stringify(listed).matchAll(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g)].map((match) => match[0]);
    expect(dates).to.not.be.empty;
    for (const date of dates) expect(Date.parse(date), date).to.be.above(Date.now());
  });

  it("every argument is described where its name does not say it all", () => {
    const registerWebhook = listed.tools.find((tool) => tool.name === "register_webhook")!;
    expect((registerWebhook.inputSchema.properties?.description as { description?: string }).description).to.match(/\w{3,}.*list_webhooks/);
  });
});
