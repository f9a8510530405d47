"use strict";
// Builds the stdio MCP server that MCP hosts run: tsc compiles server/mcp/index.ts
// and what it imports into dist/ (incrementally), then dist/index.js is written
// as the entry point, at the path the README's host configurations use.
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ENTRY = `#!/usr/bin/env node
"use strict";
// HumanOps MCP server over stdio, built from server/mcp/index.ts by packages/mcp-server/build.js.
require("./server/mcp/index.js");
`;

function build() {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(__dirname, "tsconfig.json")], { stdio: "inherit" });
  const entry = path.join(__dirname, "dist", "index.js");
  fs.writeFileSync(entry, ENTRY, { mode: 0o755 });
  return entry;
}

module.exports = { build };

if (require.main === module) build();
