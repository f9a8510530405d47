import { randomBytes } from "node:crypto";
import type { PaymentPayloadResult, PaymentRequirements, SchemeNetworkClient } from "@x402/core/types";
import { getAddress, hashTypedData, toHex, type Hex } from "viem";

/**
 * The direct x402 option, "escrow": the paying wallet funds the task's
 * TaskEscrow itself. It signs an EIP-3009 `receiveWithAuthorization` to the
 * escrow whose nonce is TaskEscrow's `fundingNonce(taskId, terms)`, terms
 * naming the wallet as funder; HumanOps relays it through
 * `fundWithAuthorization`. The signature covers the task id and every term,
 * so nobody can fund other terms with it, and the wallet is the escrow's
 * funder: refunds and reclaims after the grace period reach it on chain,
 * with or without HumanOps.
 */
export const ESCROW_SCHEME = "escrow";

/** What a 402 tells a client of the escrow scheme, in `accepts[].extra`: the token's and TaskEscrow's EIP-712 domains and the task's terms but the funder. */
export interface EscrowTermsExtra {
  /** The token's EIP-712 domain. */
  name: string;
  version: string;
  /** TaskEscrow's EIP-712 domain. */
  escrowName: string;
  escrowVersion: string;
  /** The task's id on chain (32 bytes, fresh for each 402). */
  taskId: Hex;
  /** Base units; `amount` is the requirement's own. */
  fee: string;
  /** Unix seconds. */
  deadline: string;
  /** Seconds after the deadline before anyone may send the money back to the funder. */
  gracePeriod: string;
}

/** TaskEscrow's Terms struct. */
export interface EscrowTerms {
  funder: Hex;
  amount: bigint;
  fee: bigint;
  deadline: bigint;
  gracePeriod: bigint;
}

/** The payload of a payment in the escrow scheme. */
export interface EscrowPayload {
  authorization: { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex };
  signature: Hex;
}

export function newChainTaskId(): Hex {
  return toHex(randomBytes(32));
}

export function termsOf(funder: string, requirements: PaymentRequirements): EscrowTerms {
  const extra = requirements.extra as unknown as EscrowTermsExtra;
  return { funder: getAddress(funder), amount: BigInt(requirements.amount), fee: BigInt(extra.fee), deadline: BigInt(extra.deadline), gracePeriod: BigInt(extra.gracePeriod) };
}

/** TaskEscrow.fundingNonce(taskId, terms): the EIP-712 digest of Funding(taskId, terms) under TaskEscrow's domain. */
export function fundingNonce(chainId: number, escrow: string, extra: EscrowTermsExtra, terms: EscrowTerms): Hex {
  return hashTypedData({
    domain: { name: extra.escrowName, version: extra.escrowVersion, chainId, verifyingContract: getAddress(escrow) },
    types: {
      Funding: [
        { name: "taskId", type: "bytes32" },
        { name: "terms", type: "Terms" },
      ],
      Terms: [
        { name: "funder", type: "address" },
        { name: "amount", type: "uint256" },
        { name: "fee", type: "uint256" },
        { name: "deadline", type: "uint64" },
        { name: "gracePeriod", type: "uint32" },
      ],
    },
    primaryType: "Funding",
    message: { taskId: extra.taskId, terms: { ...terms, gracePeriod: Number(terms.gracePeriod) } },
  });
}

export const RECEIVE_WITH_AUTHORIZATION_TYPES = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/**
 * The client side of the escrow scheme, for an `x402Client`:
 * `client.register("eip155:8453", new EscrowFundingScheme(privateKeyToAccount(key)))`.
 */
export class EscrowFundingScheme implements SchemeNetworkClient {
  readonly scheme = ESCROW_SCHEME;

  constructor(private readonly signer: { address: Hex; signTypedData(message: { domain: Record<string, unknown>; types: Record<string, unknown>; primaryType: string; message: Record<string, unknown> }): Promise<Hex> }) {}

  async createPaymentPayload(x402Version: number, requirements: PaymentRequirements): Promise<PaymentPayloadResult> {
    const chainId = Number(requirements.network.split(":")[1]);
    const extra = requirements.extra as unknown as EscrowTermsExtra;
    const terms = termsOf(this.signer.address, requirements);
    const now = Math.floor(Date.now() / 1000);
    const authorization = {
      from: this.signer.address,
      to: getAddress(requirements.payTo),
      value: requirements.amount,
      validAfter: String(now - 600),
      validBefore: String(now + requirements.maxTimeoutSeconds),
      nonce: fundingNonce(chainId, requirements.payTo, extra, terms),
    };
    const signature = await this.signer.signTypedData({
      domain: { name: extra.name, version: extra.version, chainId, verifyingContract: getAddress(requirements.asset) },
      types: RECEIVE_WITH_AUTHORIZATION_TYPES,
      primaryType: "ReceiveWithAuthorization",
      message: { ...authorization, value: BigInt(authorization.value), validAfter: BigInt(authorization.validAfter), validBefore: BigInt(authorization.validBefore) },
    });
    const payload: EscrowPayload = { authorization, signature };
    return { x402Version, payload: payload as unknown as Record<string, unknown> };
  }
}
