import { ValidationError } from "./errors";

/** USDC has 6 decimals: 1 USDC = 1_000_000 base units. Money is never a float. */
export const USDC_DECIMALS = 6;
const UNIT = 10n ** BigInt(USDC_DECIMALS);
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a USD amount given as a decimal string or a JSON number into USDC
 * base units, exactly. Rejects negatives, exponents and more than 6 decimals.
 */
export function parseUsd(value: string | number, field: string): bigint {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ValidationError(field, "must be a finite number");
    // The shortest round-trip representation is what the client wrote (15, 0.1, 12.345678).
    text = value.toString();
    if (/e/i.test(text)) text = value.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
  } else {
    text = value.trim();
  }
  const match = DECIMAL.exec(text);
  if (!match) throw new ValidationError(field, "must be a non-negative decimal amount in USD, e.g. 15 or 12.50");
  const [, whole, fraction = ""] = match;
  if (fraction.length > USDC_DECIMALS) {
    throw new ValidationError(field, `must have at most ${USDC_DECIMALS} decimal places (USDC precision)`);
  }
  return BigInt(whole) * UNIT + BigInt(fraction.padEnd(USDC_DECIMALS, "0"));
}

/** Base units to a decimal USD string with 2 to 6 decimals: 15000000n -> "15.00", 1234567n -> "1.234567". */
export function formatUsd(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / UNIT;
  let fraction = (abs % UNIT).toString().padStart(USDC_DECIMALS, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** The platform fee on a reward: amount * bps / 10_000, rounded down in the payer's favour. */
export function feeFor(amount: bigint, feeBps: number): bigint {
  return (amount * BigInt(feeBps)) / 10_000n;
}
