import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// The web app's build step that types its GraphQL operations against schema.graphql (plain JavaScript, run by scripts/build.js).
const { generate } = require("../../scripts/graphql-types.cjs") as {
  generate(options?: { target?: "web" | "api"; schema?: string; operations?: string; output?: string }): { operations: number; written: boolean };
};

const ROOT = path.resolve(__dirname, "..", "..");

describe("typed GraphQL operations (scripts/graphql-types.cjs): the web app's, and those REST and MCP run", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-web-graphql-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const output = path.join(dir, "out.ts");
    const result = generate({ schema: path.join(ROOT, "schema.graphql"), operations: dir, output });
    return { ...result, text: fs.readFileSync(output, "utf8") };
  };

  it("validates every operation of the app against schema.graphql", () => {
    const result = generate({ output: path.join(dir, "app.ts") });
    expect(result.operations).to.be.greaterThan(20);
  });

  it("types results (nullability, lists, enums, aliases, fragments) and variables from the schema", () => {
    const { text } = run({
      "a.graphql": `fragment M on Money { usd }
        query Board($first: Int!, $filter: TaskFilter) { tasks(first: $first, filter: $filter) { nodes { id status thumb: title fee { ...M } } } }`,
    });
    expect(text).to.contain('export const Board = "query Board');
    // A selection that is one fragment alone has the fragment's type, by name.
    expect(text).to.match(/export type BoardResult = \{\n {2}tasks: \{\n {4}nodes: Array<\{\n {6}id: string;\n {6}status: TaskStatus;\n {6}thumb: string;\n {6}fee: MFragment \| null;/);
    expect(text).to.contain("export type BoardVariables = {\n  first: number;\n  filter?: TaskFilter | null;\n};");
    expect(text).to.contain("export type TaskFilter = {\n  status?: TaskStatus | null;\n  taskType?: TaskType | null;\n};");
    expect(text).to.contain('export type TaskStatus = "ACCEPTED" | "CANCELLED"');
    expect(text).to.contain("export type MFragment = {\n  usd: string;\n};");
  });

  it("fails, naming the file, line and the schema's complaint, when an operation no longer matches the schema", () => {
    expect(() => run({ "bad.graphql": "query Balance {\n  viewerAgent { id balanceUsd }\n}\n" })).to.throw(/bad\.graphql:2:\d+: Balance: Cannot query field "balanceUsd" on type "Agent"/);
    expect(() => run({ "bad.graphql": "mutation Post { postTask(input: { title: 1 }) { id } }" })).to.throw(/Post: .*PostTaskInput/);
  });

  it("server/api/operations.generated.ts is what the REST and MCP operations and schema.graphql make today (npm run graphql-types)", () => {
    const output = path.join(dir, "api.ts");
    generate({ target: "api", output });
    expect(fs.readFileSync(output, "utf8"), "server/api/operations.generated.ts is stale: run npm run graphql-types").to.equal(
      fs.readFileSync(path.join(ROOT, "server", "api", "operations.generated.ts"), "utf8"),
    );
  });

  it("leaves an unchanged output file alone, so the incremental build stays fresh", () => {
    expect(run({ "a.graphql": "query Me { viewerAgent { id } }" }).written).to.equal(true);
    expect(run({ "a.graphql": "query Me { viewerAgent { id } }" }).written).to.equal(false);
  });
});
