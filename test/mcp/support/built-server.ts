import path from "node:path";
import { REPO_ROOT } from "./connections";

let built: string | undefined;

/**
 * Builds packages/mcp-server/dist/index.js with the project's own build step
 * (incremental tsc), once per test run, and returns its path.
 */
export function builtStdioServer(): string {
  if (!built) {
    const { build } = require(path.join(REPO_ROOT, "packages", "mcp-server", "build.js")) as { build(): string };
    built = build();
  }
  return built;
}
