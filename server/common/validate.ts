import { getAddress, isAddress } from "ethers";
import { ValidationError } from "./errors";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function requiredText(value: unknown, field: string, max: number): string {
  if (typeof value !== "string" || value.trim().length === 0) throw new ValidationError(field, "is required");
  const trimmed = value.trim();
  if (trimmed.length > max) throw new ValidationError(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed;
}

export function email(value: unknown, field = "email"): string {
  const text = requiredText(value, field, 320).toLowerCase();
  if (!EMAIL.test(text)) throw new ValidationError(field, "must be an email address");
  return text;
}

/** A 0x address, returned in its EIP-55 checksummed form; a wrong checksum is refused. */
export function evmAddress(value: unknown, field: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new ValidationError(field, "must be a 0x-prefixed 20-byte Ethereum address (with a correct EIP-55 checksum if mixed-case)");
  }
  const address = getAddress(value);
  if (/^0x0{40}$/i.test(address)) throw new ValidationError(field, "must not be the zero address");
  return address;
}
