import { formatUsd, parseUsd } from "../common/money";
import type { GraphQLErrorShape } from "./graphql.backend";
import { ToolError } from "./tool-result";

/** GraphQL argument names whose tool argument is not simply the snake_case form. */
const ARGUMENT_NAMES: Record<string, string> = { first: "limit", after: "cursor", dataBase64: "data" };

/** "rewardUsd" → "reward_usd", "location.lat" → "location.lat", "first" → "limit": the name the model used. */
export function argumentName(graphqlField: string): string {
  return graphqlField
    .split(".")
    .map((segment) => ARGUMENT_NAMES[segment] ?? segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))
    .join(".");
}

/** One broken rule of a tool's arguments; `example` is a valid value, where one can be given. */
export interface ArgumentProblem {
  argument: string;
  rule: string;
  example?: string;
}

const clause = ({ argument, rule, example }: ArgumentProblem) => `\`${argument}\`: ${rule}${example ? `, e.g. ${example}` : ""}`;

/** BAD_USER_INPUT for arguments that break their rules, in one wording whichever layer found them. */
export function invalidArguments(problems: readonly ArgumentProblem[]): ToolError {
  const names = [...new Set(problems.map((problem) => `\`${problem.argument}\``))].join(", ");
  const what = problems.length === 1 ? `invalid argument ${clause(problems[0])}` : `invalid arguments: ${problems.map(clause).join("; ")}`;
  return new ToolError("BAD_USER_INPUT", `${what}. Correct ${names} and call the tool again.`);
}

function badInput(error: GraphQLErrorShape): ToolError {
  const field = error.extensions?.field;
  if (!field) return new ToolError("BAD_USER_INPUT", `${error.message}. Correct the arguments and call the tool again.`);
  const rule = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
  return invalidArguments([{ argument: argumentName(field), rule }]);
}

function insufficientFunds(error: GraphQLErrorShape): string {
  const { requiredUsd, availableUsd } = error.extensions?.details ?? {};
  const orPay = error.extensions?.details?.x402 ? ` Or pay from your own wallet: an x402 client calls again with the payment in _meta["x402/payment"].` : "";
  if (typeof requiredUsd !== "string" || typeof availableUsd !== "string") return `${error.message}. Lower reward_usd or add funds.${orPay}`;
  const shortBy = formatUsd(parseUsd(requiredUsd, "requiredUsd") - parseUsd(availableUsd, "availableUsd"));
  return (
    `the balance is too low: this needs ${requiredUsd} USDC (reward + fee) and ${availableUsd} USDC is available, ` +
    `${shortBy} USDC short. Lower reward_usd (estimate_cost shows what a reward costs with the fee) ` +
    `or add USDC to the balance (get_deposit_address), then post again.${orPay}`
  );
}

/**
 * Turns a HumanOps GraphQL error into what a model should read: what went
 * wrong, and the next step that fixes it.
 */
export function explain(error: GraphQLErrorShape, keyInstructions: string): ToolError {
  const code = error.extensions?.code ?? "INTERNAL_SERVER_ERROR";
  switch (code) {
    case "BAD_USER_INPUT":
      return badInput(error);
    case "INSUFFICIENT_FUNDS":
      return new ToolError(code, insufficientFunds(error), error.extensions?.details);
    case "UNAUTHENTICATED":
      return new ToolError(code, `HumanOps needs a valid API key: ${error.message}. Get one with register_agent, then ${keyInstructions}.`);
    case "FORBIDDEN":
      return new ToolError(code, `${error.message}. This key may not do that; change the request or use the right key.`);
    case "NOT_FOUND":
      return new ToolError(
        code,
        `${error.message}. Ids come from the tool that created the object or from its list (post_task or list_tasks, register_webhook or list_webhooks); ` +
          "objects of other agents, or of the other mode (test/live), are not visible to this key.",
      );
    case "CONFLICT":
      return new ToolError(code, `${error.message}. Call check_status to see the task's current status and what can be done now.`);
    case "DEADLINE_PASSED":
      return new ToolError(code, `${error.message}. Post a new task with a later deadline if it is still needed.`);
    case "RATE_LIMITED":
      return new ToolError(code, `${error.message}. Wait before calling again; wait_for_task waits without spending calls.`);
    case "LIMIT_EXCEEDED":
    case "PAYLOAD_TOO_LARGE":
    case "UNSUPPORTED_MEDIA_TYPE":
      return new ToolError(code, `${error.message}. Change the request to fit the limit and call again.`);
    default:
      return new ToolError(code, `${error.message}. Retry shortly; if it keeps failing, report this message to HumanOps.`);
  }
}
