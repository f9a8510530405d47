import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { invalidArguments } from "./guidance";
import { exampleDeadline } from "./inputs";

/** One argument's JSON Schema, as far as the wording of a rule needs it. */
interface ArgumentSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  items?: ArgumentSchema;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The zod schema at an issue's path, through optionals, defaults, nullables, objects and arrays (zod classic or mini alike). */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const step of [...path, undefined]) {
    while (current && ["optional", "default", "nullable"].includes(defOf(current).type)) current = defOf(current).innerType;
    if (step === undefined || !current) return current;
    const def = defOf(current);
    current = def.type === "object" ? def.shape?.[String(step)] : def.type === "array" ? def.element : undefined;
  }
  return current;
}

/** The value the caller sent at a path, if any. */
function valueAt(args: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, step) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[step] : undefined), args);
}

function jsonSchemaOf(schema: z.ZodType | undefined): ArgumentSchema {
  return schema ? (z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as ArgumentSchema) : {};
}

const range = (json: ArgumentSchema) =>
  json.minimum !== undefined && json.maximum !== undefined
    ? ` from ${json.minimum} to ${json.maximum}`
    : json.minimum !== undefined
      ? ` of at least ${json.minimum}`
      : json.maximum !== undefined
        ? ` of at most ${json.maximum}`
        : "";

/** The rule an argument breaks, in the words HumanOps's own validation uses. */
function ruleOf(issue: z.core.$ZodIssue, json: ArgumentSchema, sent: unknown): string {
  if (sent === undefined) return "is required";
  if (json.enum) return `must be one of ${json.enum.join(", ")}`;
  if (json.format === "date-time") return "must be an ISO-8601 date-time with a time zone";
  if (json.type === "integer") return `must be a whole number${range(json)}`;
  if (json.type === "number") return `must be a number${range(json)}`;
  if (Array.isArray(json.type) && json.type.includes("number") && json.type.includes("string")) return "must be a number or a decimal string";
  if (json.type === "array") {
    const bounds = [json.minItems ? `at least ${json.minItems}` : "", json.maxItems !== undefined ? `at most ${json.maxItems}` : ""].filter(Boolean).join(" and ");
    return bounds ? `must be a list of ${bounds} items` : "must be a list";
  }
  if (json.type === "object") return "must be an object";
  if (json.type === "string") return "must be a string";
  if (json.type === "boolean") return "must be true or false";
  return issue.message;
}

/** A valid value to show beside the rule: the description's own example, or one made from the schema. */
function exampleOf(json: ArgumentSchema): string | undefined {
  if (json.format === "date-time") return exampleDeadline();
  const stated = /e\.g\. (.+?)(?:;|$)/.exec(json.description ?? "")?.[1];
  if (stated) return stated;
  if (json.enum) return String(json.enum[0]);
  if (json.type === "integer" || json.type === "number") return String(json.minimum !== undefined && json.minimum < 0 ? 0 : (json.minimum ?? 1));
  if (json.type === "array" && json.items?.enum) return JSON.stringify([json.items.enum[0]]);
  return undefined;
}

/** "location.lat", "proof_requirements[1]": the argument as the model wrote it. */
function argumentPath(path: readonly PropertyKey[]): string {
  return path.map((step, i) => (typeof step === "number" ? `[${step}]` : `${i ? "." : ""}${String(step)}`)).join("");
}

/** Each broken rule of a tool's arguments: which argument, the rule, and a valid value. */
export function argumentProblems(inputSchema: z.ZodType, args: unknown, issues: readonly z.core.$ZodIssue[]) {
  return issues.map((issue) => {
    const json = jsonSchemaOf(schemaAt(inputSchema, issue.path));
    return { argument: argumentPath(issue.path), rule: ruleOf(issue, json, valueAt(args, issue.path)), example: exampleOf(json) };
  });
}

interface SdkToolValidation {
  validateToolInput(tool: { inputSchema?: z.ZodType }, args: unknown, toolName: string): Promise<unknown>;
}

/**
 * The SDK checks a call's arguments against the tool's zod schema before
 * the tool runs and answers a failure in its own words ("Input validation
 * error: … at deadline"). Checked here first, a failure is answered like
 * every other bad input: BAD_USER_INPUT naming the argument, the rule and a
 * valid value. The SDK's own check still runs on what passes.
 */
export function answerArgumentErrorsAsTools(server: McpServer): void {
  const sdk = server as unknown as SdkToolValidation;
  if (typeof sdk.validateToolInput !== "function") throw new Error("the MCP SDK no longer validates tool input where HumanOps expects it");
  const sdkCheck = sdk.validateToolInput.bind(server);
  sdk.validateToolInput = async (tool, args, toolName) => {
    if (tool.inputSchema) {
      const parsed = await tool.inputSchema.safeParseAsync(args ?? {});
      if (!parsed.success) throw invalidArguments(argumentProblems(tool.inputSchema, args ?? {}, parsed.error.issues));
    }
    return sdkCheck(tool, args, toolName);
  };
}
