import { expect } from "chai";
import { feeFor, formatUsd, parseUsd } from "../../server/common/money";
import { ValidationError } from "../../server/common/errors";

describe("money", () => {
  it("parses USD amounts into exact USDC base units", () => {
    expect(parseUsd(15, "r")).to.equal(15_000_000n);
    expect(parseUsd("15", "r")).to.equal(15_000_000n);
    expect(parseUsd(0.1, "r")).to.equal(100_000n);
    expect(parseUsd("12.345678", "r")).to.equal(12_345_678n);
    expect(parseUsd(1e-6, "r")).to.equal(1n);
    expect(parseUsd("90071992547.409910", "r")).to.equal(90_071_992_547_409_910n);
  });

  it("refuses more than 6 decimals, negatives, exponents in strings and garbage, naming the field", () => {
    for (const bad of [1.1234567, "0.0000001", -1, "-1", "1e3", "abc", "", Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => parseUsd(bad as never, "reward_usd"), String(bad)).to.throw(ValidationError, /^reward_usd: /);
    }
  });

  it("formats base units with 2 to 6 decimals", () => {
    expect(formatUsd(15_000_000n)).to.equal("15.00");
    expect(formatUsd(1_234_567n)).to.equal("1.234567");
    expect(formatUsd(1_500_000n)).to.equal("1.50");
    expect(formatUsd(0n)).to.equal("0.00");
    expect(formatUsd(-2_500_000n)).to.equal("-2.50");
  });

  it("computes the fee in basis points, rounding down", () => {
    expect(feeFor(15_000_000n, 1_000)).to.equal(1_500_000n);
    expect(feeFor(1n, 1_000)).to.equal(0n);
    expect(feeFor(12_345_678n, 1_000)).to.equal(1_234_567n);
    expect(feeFor(10_000_000n, 0)).to.equal(0n);
  });
});
