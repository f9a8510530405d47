import { z } from "zod";
import { envProblems } from "../common/env";
import { graphqlEndpoint } from "./api-url";

/** The stdio MCP server's settings, from the env an MCP host (Claude Desktop, Cursor) gives it. */
export interface StdioConfig {
  endpoint: URL;
  apiKey?: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** A setting the stdio server cannot start with; `problems` has one "VARIABLE: rule" line each. */
export class StdioConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const DEFAULT_API_URL = "https://api.humanops.io";

const EnvSchema = z.object({
  HUMANOPS_API_URL: z.string().trim().min(1).default(DEFAULT_API_URL),
  HUMANOPS_API_KEY: z
    .string()
    .trim()
    .optional()
    .transform((key) => key || undefined),
  HUMANOPS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export function loadStdioConfig(env: NodeJS.ProcessEnv): StdioConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new StdioConfigError(envProblems(parsed.error));
  try {
    return { endpoint: graphqlEndpoint(parsed.data.HUMANOPS_API_URL), apiKey: parsed.data.HUMANOPS_API_KEY, logLevel: parsed.data.HUMANOPS_LOG_LEVEL };
  } catch (err) {
    throw new StdioConfigError([(err as Error).message]);
  }
}
