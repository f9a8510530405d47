import pino from "pino";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createLogger } from "../common/logger";
import { createHttpBackend } from "./http.backend";
import { createMcpServer } from "./server";
import { loadStdioConfig, StdioConfigError, type StdioConfig } from "./stdio.config";

/**
 * The stdio MCP server an MCP host spawns (`node …/dist/index.js` with
 * HUMANOPS_API_KEY and HUMANOPS_API_URL in its env). stdout carries the
 * protocol, so everything else, logs included, goes to stderr.
 */

/** Which kind of key is configured, for the startup log: never the key itself. */
function keyKind(apiKey: string | undefined): string {
  if (!apiKey) return "none (only register_agent works)";
  return /^ho_(test|live)_/.exec(apiKey)?.[1] ?? "unrecognised";
}

async function main(): Promise<void> {
  let config: StdioConfig;
  try {
    config = loadStdioConfig(process.env);
  } catch (err) {
    if (!(err instanceof StdioConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger(config.logLevel, pino.destination(2));
  const server = createMcpServer(createHttpBackend(config.endpoint, config.apiKey));
  server.server.onerror = (err) => log.warn({ err }, "MCP protocol error");

  const transport = new StdioServerTransport();
  const shutdown = () => {
    server
      .close()
      .catch((err: unknown) => log.error({ err }, "closing the MCP server failed"))
      .finally(() => process.exit(0));
  };
  process.stdin.once("end", shutdown);
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  await server.connect(transport);
  log.info({ graphql: config.endpoint.href, apiKeyKind: keyKind(config.apiKey) }, "HumanOps MCP server ready on stdio");
}

main().catch((err: unknown) => {
  process.stderr.write(`HumanOps MCP server failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
