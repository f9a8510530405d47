import { z } from "zod";

/** Input schemas more than one tool takes. */

export const TaskId = z.string().describe("The task's id, from post_task or list_tasks");

export const UsdAmount = z
  .union([z.number(), z.string()])
  .describe('An amount in USD (paid in USDC), as a number or a decimal string with at most 6 decimals, e.g. 15 or "12.50"');
