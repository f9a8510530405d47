import { expect } from "chai";
import { argumentName, explain } from "../../server/mcp/guidance";

const HOW_TO_SET_KEY = "set it as HUMANOPS_API_KEY";

describe("MCP error guidance", () => {
  it("names arguments as the tools spell them", () => {
    expect(argumentName("rewardUsd")).to.equal("reward_usd");
    expect(argumentName("location.lat")).to.equal("location.lat");
    expect(argumentName("proofRequirements[2]")).to.equal("proof_requirements[2]");
    expect(argumentName("first")).to.equal("limit");
    expect(argumentName("after")).to.equal("cursor");
    expect(argumentName("taskId")).to.equal("task_id");
    expect(argumentName("eventTypes[3]")).to.equal("event_types[3]");
  });

  it("BAD_USER_INPUT: the argument, the rule, and to call again", () => {
    const error = explain({ message: "maxAttempts: must be a whole number from 1 to 10", extensions: { code: "BAD_USER_INPUT", field: "maxAttempts" } }, HOW_TO_SET_KEY);
    expect(error.code).to.equal("BAD_USER_INPUT");
    expect(error.message).to.equal("BAD_USER_INPUT: invalid argument `max_attempts`: must be a whole number from 1 to 10. Correct `max_attempts` and call the tool again.");
    const coercion = explain({ message: 'Variable "$input" got invalid value "x" at "input.taskType"', extensions: { code: "BAD_USER_INPUT", field: "taskType" } }, HOW_TO_SET_KEY);
    expect(coercion.message).to.contain('invalid argument `task_type`: Variable "$input" got invalid value "x"');
  });

  it("INSUFFICIENT_FUNDS: required, available, the shortfall and two ways out", () => {
    const error = explain(
      { message: "insufficient balance", extensions: { code: "INSUFFICIENT_FUNDS", details: { requiredUsd: "110.00", availableUsd: "25.125" } } },
      HOW_TO_SET_KEY,
    );
    expect(error.message).to.equal(
      "INSUFFICIENT_FUNDS: the balance is too low: this needs 110.00 USDC (reward + fee) and 25.125 USDC is available, 84.875 USDC short. " +
        "Lower reward_usd (estimate_cost shows what a reward costs with the fee) or add USDC to the balance (get_deposit_address), then post again.",
    );
  });

  it("UNAUTHENTICATED: how this connection gives a key", () => {
    const error = explain({ message: "the API key is malformed", extensions: { code: "UNAUTHENTICATED" } }, HOW_TO_SET_KEY);
    expect(error.message).to.equal(`UNAUTHENTICATED: HumanOps needs a valid API key: the API key is malformed. Get one with register_agent, then ${HOW_TO_SET_KEY}.`);
  });

  it("anything unexpected: the server's message and to retry", () => {
    const error = explain({ message: "internal error (reference 42)", extensions: { code: "INTERNAL_SERVER_ERROR", reference: "42" } }, HOW_TO_SET_KEY);
    expect(error.message).to.equal("INTERNAL_SERVER_ERROR: internal error (reference 42). Retry shortly; if it keeps failing, report this message to HumanOps.");
    expect(explain({ message: "odd" }, HOW_TO_SET_KEY).code).to.equal("INTERNAL_SERVER_ERROR");
  });
});
