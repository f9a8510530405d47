import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/**
 * A failure a model can act on. Its message becomes the text of an isError
 * tool result (the SDK turns a thrown error into one), so it says what went
 * wrong and what to do next; `code` is HumanOps's error code.
 */
export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The error's details, where HumanOps gave some (e.g. the x402 requirements of INSUFFICIENT_FUNDS). */
    readonly details?: Record<string, unknown>,
  ) {
    super(`${code}: ${message}`);
    this.name = "ToolError";
  }
}

/** A successful tool result: the structured value, and the same as JSON text for hosts that read only text. */
export function success<T extends Record<string, unknown>>(structured: T): CallToolResult & { structuredContent: T } {
  return { structuredContent: structured, content: [{ type: "text", text: JSON.stringify(structured, null, 2) }] };
}

/** The isError result for a failure, as the SDK would build it for a thrown error. */
export function failure(err: unknown): CallToolResult {
  return { isError: true, content: [{ type: "text", text: err instanceof Error ? err.message : String(err) }] };
}
