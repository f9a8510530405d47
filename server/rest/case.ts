/**
 * REST speaks snake_case, GraphQL camelCase. Request bodies are derived from
 * the GraphQL input types (openapi.ts), so converting their keys is exact in
 * both directions; error field paths are converted the same way.
 */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Deeply renames object keys to camelCase; arrays and values pass through.
 * A body that passed its request schema, camelized, is the GraphQL input its
 * schema was derived from: the routes name it (`as PostTaskInput`), and
 * GraphQL checks the variables against it again.
 */
export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (value === null || typeof value !== "object" || value instanceof Date || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [camelCase(key), camelizeKeys(inner)]));
}

/**
 * A GraphQL error's field path as the REST client named it:
 * "rewardUsd" → "reward_usd", "proofRequirements[1]" → "proof_requirements[1]".
 * `aliases` rename a leading segment where a route's REST name differs
 * from the GraphQL argument (e.g. "first" → "limit", "near.lat" → "lat").
 */
export function restFieldName(field: string, aliases: Readonly<Record<string, string>> = {}): string {
  for (const [from, to] of Object.entries(aliases)) {
    if (field === from || field.startsWith(`${from}.`) || field.startsWith(`${from}[`)) {
      return to + snakeCase(field.slice(from.length));
    }
  }
  return snakeCase(field);
}
