import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { invalidArguments } from "./guidance";
import { ToolError } from "./tool-result";

/**
 * x402 over MCP (x402's specs/transports-v2/mcp.md): a tool that needs
 * paying answers with an isError result holding the PaymentRequired, both as
 * structuredContent and as the JSON text of content[0]; the client retries
 * the same call with the signed PaymentPayload in params._meta["x402/payment"]
 * and the result carries the settlement in _meta["x402/payment-response"].
 * HumanOps verifies and settles the payment in the GraphQL operation the tool
 * runs (postTask's x402Payment), as for REST's PAYMENT-SIGNATURE.
 */
export const X402_PAYMENT_META = "x402/payment";

/*
 * The x402 v2 messages this file handles, as the spec defines them. Written out rather than imported from
 * @x402/core: the stdio MCP package compiles this file and depends on nothing of x402 (the server verifies
 * and settles; a tool only passes the payment on and the answer back).
 */
type PaymentRequired = {
  x402Version: number;
  error?: string;
  resource?: { url: string; description: string; mimeType: string };
  accepts: unknown[];
  extensions?: Record<string, unknown>;
};

type SettleResponse = {
  success: boolean;
  payer: string;
  transaction: string;
  network: string;
};

export const X402_PAYMENT_RESPONSE_META = "x402/payment-response";

/** The payment in a call's `_meta`, as the PAYMENT-SIGNATURE value GraphQL's x402Payment takes; undefined without one. */
export function paymentFromMeta(meta: Record<string, unknown> | undefined): string | undefined {
  const payment = meta?.[X402_PAYMENT_META];
  if (payment === undefined || payment === null) return undefined;
  if (typeof payment !== "object" || Array.isArray(payment)) {
    throw invalidArguments([{ argument: `_meta["${X402_PAYMENT_META}"]`, rule: "must be an x402 v2 PaymentPayload object (x402Version, accepted, payload), as an x402 client signs it" }]);
  }
  // x402's PAYMENT-SIGNATURE encoding (encodePaymentSignatureHeader): base64 of the payload's JSON in UTF-8.
  return Buffer.from(JSON.stringify(payment), "utf8").toString("base64");
}

/** The PaymentRequired a refused call came with (INSUFFICIENT_FUNDS where the task's chain takes x402), if any. */
export function paymentRequiredOf(err: unknown): PaymentRequired | undefined {
  return err instanceof ToolError && err.code === "INSUFFICIENT_FUNDS" ? (err.details?.x402 as PaymentRequired | undefined) : undefined;
}

/**
 * The payment-required result of `tool`: the requirements with this tool as their resource and the reason (what
 * was refused, what to do) as their `error`, identical in structuredContent and content[0].text.
 */
export function paymentRequiredResult(required: PaymentRequired, tool: string, description: string, reason: string): CallToolResult {
  const answer: PaymentRequired = { ...required, error: reason, resource: { url: `mcp://tool/${tool}`, description, mimeType: "application/json" } };
  return { isError: true, structuredContent: answer, content: [{ type: "text", text: JSON.stringify(answer) }] };
}

/** A paid call's settlement, for the result's `_meta`. */
export function paymentResponseMeta(payment: { payer: string; transaction: string }, chainId: number): Record<string, unknown> {
  const settled: SettleResponse = { success: true, payer: payment.payer, transaction: payment.transaction, network: `eip155:${chainId}` };
  return { [X402_PAYMENT_RESPONSE_META]: settled };
}

/** The x402 v2 PaymentRequired, as a paid tool's isError result carries it in structuredContent. */
const PAYMENT_REQUIRED_FIELDS = {
  x402Version: z.literal(2).optional().describe("x402: this result is the payment required (isError)"),
  error: z.string().optional().describe("x402: why payment is required or was refused, and what to do"),
  resource: z.object({ url: z.string(), description: z.string(), mimeType: z.string() }).optional(),
  accepts: z
    .array(z.object({ scheme: z.string(), network: z.string(), asset: z.string(), amount: z.string(), payTo: z.string(), maxTimeoutSeconds: z.number(), extra: z.record(z.string(), z.unknown()).optional() }))
    .optional()
    .describe("x402: the ways to pay (exact first); sign one and call again with the payment in _meta[\"x402/payment\"]"),
  extensions: z.record(z.string(), z.unknown()).optional(),
};

/**
 * A paid tool's output schema: its own result, or (isError) the x402 PaymentRequired. MCP clients validate
 * structuredContent against the tool's output schema even on an error result, so the schema admits both: one
 * object whose `anyOf` requires either the result's required fields or x402Version and accepts.
 */
export function orPaymentRequired<Shape extends z.ZodRawShape>(result: z.ZodObject<Shape>) {
  const required = Object.entries(result.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name);
  return result
    .partial()
    .extend(PAYMENT_REQUIRED_FIELDS)
    .meta({ anyOf: [{ required }, { required: ["x402Version", "accepts"] }] });
}
