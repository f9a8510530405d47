import path from "node:path";
import { REPO_ROOT } from "./connections";

let built: string | undefined;

// scripts/build.js is plain JavaScript; its "mcp" step is the one `npm test` runs before mocha (scripts/test-prepare.js).
const { isFresh } = require(path.join(REPO_ROOT, "scripts", "build.js")) as { isFresh(name: string): boolean };

/**
 * packages/mcp-server/dist/index.js as built from the sources as they are
 * now: `npm test` builds it before the suite (the build step "mcp"); a file
 * named on its own builds it here (incremental tsc), once per process.
 * Returns its path.
 */
export function builtStdioServer(): string {
  if (!built && isFresh("mcp")) built = path.join(REPO_ROOT, "packages", "mcp-server", "dist", "index.js");
  if (!built) {
    const { build } = require(path.join(REPO_ROOT, "packages", "mcp-server", "build.js")) as { build(): string };
    built = build();
  }
  return built;
}
