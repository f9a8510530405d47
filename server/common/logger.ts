import pino, { type Logger } from "pino";

/**
 * Structured JSON logs on stdout (stderr for the stdio MCP server). Anything
 * that could hold a secret is redacted by path, so an API key, a private key
 * or a webhook secret never reaches a log line even when a whole request or
 * error object is logged.
 */
export const REDACTED_PATHS = [
  "apiKey",
  "*.apiKey",
  "guardian.vision.apiKey",
  "*.guardian.vision.apiKey",
  "key",
  "*.key",
  "secret",
  "*.secret",
  "callbackSecret",
  "*.callbackSecret",
  "privateKey",
  "*.privateKey",
  "password",
  "*.password",
  "accessToken",
  "*.accessToken",
  "req.headers[\"x-app-token\"]",
  "headers[\"x-app-token\"]",
  "req.headers.authorization",
  "req.headers[\"x-api-key\"]",
  "req.headers.cookie",
  "headers.authorization",
  "headers[\"x-api-key\"]",
  // express's body parsers keep the raw request body on their errors.
  "err.body",
  "*.err.body",
  "req.body",
  "body",
];

export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(1)): Logger {
  return pino(
    {
      level,
      base: { service: "humanops" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
