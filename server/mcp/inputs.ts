import { z } from "zod";

/** Input schemas more than one tool takes. */

export const TaskId = z.string();

export const UsdAmount = z
  .union([z.number(), z.string()])
  .describe('USD, a number or a decimal string (at most 6 decimals), e.g. 15 or "12.50"');

const ISO_DATE_TIME = z.iso.datetime({ offset: true });

/**
 * An ISO-8601 date-time with a time zone. Checked like zod's iso.datetime,
 * but listed as `format: date-time` only: its 350-character pattern would
 * fill a model's context for nothing.
 */
export const IsoDateTime = z
  .string()
  .refine((value) => ISO_DATE_TIME.safeParse(value).success, { message: "must be an ISO-8601 date-time with a time zone" })
  .meta({ format: "date-time" });

const DAY_MS = 86_400_000;

/** A deadline to show in examples: a week from `now`, at 18:00 UTC, so it stays valid while a server runs for days. */
export function exampleDeadline(now = Date.now()): string {
  const day = new Date(now + 7 * DAY_MS).toISOString().slice(0, 10);
  return `${day}T18:00:00Z`;
}
