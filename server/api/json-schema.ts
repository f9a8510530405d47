import { z } from "zod";

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * The response schemas of the REST API, by their name in the OpenAPI
 * document's components.schemas. A schema registered here is written as a
 * $ref wherever another schema uses it.
 */
export const components = z.registry<{ id: string }>();

/** Registers `schema` as components.schemas[id] and returns it. */
export function component<T extends z.ZodType>(id: string, schema: T): T {
  components.add(schema, { id });
  return schema;
}

// ── field types the schemas share ────────────────────────────────────────────

/** Money in responses: USD (USDC) as an exact decimal string. */
export const usdAmount = () => z.string().regex(/^\d+\.\d{2,6}$/).meta({ examples: ["15.00"] });
/** Formats are stated, not checked: these describe what HumanOps writes. */
export const dateTime = () => z.string().meta({ format: "date-time" });
export const uuid = () => z.string().meta({ format: "uuid" });
export const uri = () => z.string().meta({ format: "uri" });
export const txHash = () => z.string().regex(/^0x[0-9a-f]{64}$/);

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * components.schemas of the OpenAPI document, from the registered zod
 * schemas: each reference to another registered schema is a $ref; the
 * safe-integer bounds zod gives every integer are left out (they say
 * nothing a client needs), as is each schema's own $schema/$id.
 */
export function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(components, {
    target: "draft-2020-12",
    io: "output",
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ jsonSchema }) => {
      for (const bound of ["minimum", "maximum"] as const) {
        if (SAFE_INTEGER_BOUNDS.has(jsonSchema[bound] as number)) delete jsonSchema[bound];
      }
    },
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}
