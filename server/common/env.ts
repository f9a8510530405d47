import { z } from "zod";

/**
 * A whole number from an environment variable, within [min, max], with the
 * rule in the message (server/config.ts prints one line per bad variable).
 */
export const envInt = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** One "VARIABLE: rule" line per problem zod found in the environment (or in a file's fields). */
export function envProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}
