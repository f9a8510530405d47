import { x402Facilitator } from "@x402/core/facilitator";
import { decodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { concat, createPublicClient, createWalletClient, custom, defineChain, getAddress, numberToHex, type Account, type Chain as ViemChain, type Hex, type PublicClient, type Transport, type WalletClient } from "viem";
import { RpcError } from "../chain/rpc";
import { describeRevert } from "../chain/contracts";
import { simulate } from "../chain/transactions";
import { ESCROW_SCHEME, fundingNonce, newChainTaskId, termsOf, type EscrowPayload, type EscrowTermsExtra } from "./escrow.scheme";
import { privateKeyToAccount } from "viem/accounts";
import { DomainError, ValidationError } from "../common/errors";
import { formatUsd } from "../common/money";
import type { Mode } from "../common/mode";
import type { Logger } from "../common/logger";
import type { Chain, Chains } from "../chain/chains";
import type { CostBreakdown } from "../tasks/task.service";

/** The x402 protocol version HumanOps speaks (headers PAYMENT-REQUIRED / PAYMENT-SIGNATURE / PAYMENT-RESPONSE). */
export const X402_VERSION = 2;

/** How long a client has to sign and send a payment after a 402. */
const PAYMENT_TIMEOUT_SECONDS = 300;

/** The resource a 402 of POST /api/v1/tasks describes. */
const RESOURCE = { url: "/api/v1/tasks", description: "Post a HumanOps task: its reward plus the platform fee go into the task's escrow", mimeType: "application/json" };

/** A refused x402 payment: nothing was posted and nothing moved. Answers 402 with the requirements again. */
export class PaymentRefusedError extends DomainError {
  constructor(reason: string, paymentRequired?: PaymentRequired) {
    super("INSUFFICIENT_FUNDS", `the x402 payment was refused: ${reason}; nothing was posted and nothing was charged`, "x402Payment", paymentRequired ? { x402: paymentRequired } : undefined);
  }
}

/** A payment verified and settled on chain. */
export interface SettledPayment {
  scheme: string;
  /** The paying wallet (checksummed). */
  payer: string;
  /** The settlement transaction's hash. */
  transaction: string;
  /** CAIP-2, e.g. eip155:8453. */
  network: string;
  amount: bigint;
  /** The x402 settlement answer, for the PAYMENT-RESPONSE header. */
  response: SettleResponse;
  /** Scheme "escrow": the task's escrow, funded by the payer itself. */
  escrow?: { chainTaskId: string; funder: string };
}

interface ChainPayments {
  chain: Chain;
  network: `eip155:${number}`;
  facilitator: x402Facilitator;
  /** The token's EIP-712 domain (USDC on Base says "USD Coin", on Base Sepolia "USDC"), read once from the chain. */
  domain: Promise<{ name: string; version: string }>;
  /** Settlements of this relayer one after another: each takes the relayer's next nonce. */
  queue: Promise<unknown>;
  relayer: { address: Hex };
  reader: PublicClient;
  writer: WalletClient<Transport, ViemChain, Account>;
}

/** USDC's transferWithAuthorization taking the signature as bytes (FiatToken v2.2: ECDSA or ERC-1271), which TestUSDC implements too. */
const TRANSFER_WITH_AUTHORIZATION_BYTES_ABI = [
  {
    type: "function",
    name: "transferWithAuthorization",
    stateMutability: "nonpayable",
    inputs: [
      { name: "from", type: "address" },
      { name: "to", type: "address" },
      { name: "value", type: "uint256" },
      { name: "validAfter", type: "uint256" },
      { name: "validBefore", type: "uint256" },
      { name: "nonce", type: "bytes32" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [],
  },
] as const;

/**
 * The facilitator calls the (v, r, s) form of transferWithAuthorization for
 * an ECDSA signature; USDC on Base also has the bytes form, the one TestUSDC
 * (the local chains' USDC) has, so every call is made in that form.
 */
function withBytesSignature<T extends { functionName: string; abi: readonly unknown[]; args?: readonly unknown[] }>(call: T): T {
  if (call.functionName !== "transferWithAuthorization" || call.args?.length !== 9) return call;
  const [from, to, value, validAfter, validBefore, nonce, v, r, s] = call.args as [Hex, Hex, bigint, bigint, bigint, Hex, number | bigint, Hex, Hex];
  const recovery = Number(v) < 27 ? Number(v) + 27 : Number(v);
  return { ...call, abi: TRANSFER_WITH_AUTHORIZATION_BYTES_ABI, args: [from, to, value, validAfter, validBefore, nonce, concat([r, s, numberToHex(recovery, { size: 1 })])] };
}

const EIP712_DOMAIN_ABI = [
  { type: "function", name: "name", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
  { type: "function", name: "version", stateMutability: "view", inputs: [], outputs: [{ type: "string" }] },
] as const;

/**
 * Payment for a task from an agent's own wallet, over x402 v2: the payment
 * requirements a 402 carries, and the verification and settlement of a
 * client's payment, done here against the chain (HumanOps is its own
 * facilitator: the @x402/evm `exact` scheme submits the wallet's EIP-3009
 * transferWithAuthorization from the chain's relayer key). A chain without a
 * relayer key offers no x402 payment.
 */
export class X402Payments {
  private readonly byMode = new Map<Mode, ChainPayments>();

  constructor(
    chains: Chains,
    /** TaskEscrow's grace period of new tasks (CHAIN_GRACE_DAYS), a term the escrow scheme's payer signs. */
    private readonly gracePeriodSeconds: number,
    private readonly log: Logger,
  ) {
    for (const chain of chains.all()) {
      if (chain.relayer) this.byMode.set(chain.mode, this.facilitatorFor(chain, chain.relayer.privateKey as Hex));
    }
  }

  /** Whether a mode's chain takes x402 payments. */
  offered(mode: Mode): boolean {
    return this.byMode.has(mode);
  }

  /**
   * The x402 v2 requirements to pay `cost` for a task in `mode` with this
   * deadline: `exact` first (any stock x402 client), then `escrow` (the
   * direct option, for clients that fund TaskEscrow themselves). Undefined
   * when that chain takes no x402 payment.
   */
  async required(mode: Mode, cost: CostBreakdown, deadline: Date, error?: string): Promise<PaymentRequired | undefined> {
    const payments = this.byMode.get(mode);
    if (!payments) return undefined;
    return {
      x402Version: X402_VERSION,
      ...(error ? { error } : {}),
      resource: RESOURCE,
      accepts: [await this.exact(payments, cost), await this.escrow(payments, cost, deadline, newChainTaskId())],
    };
  }

  /**
   * Verifies a PAYMENT-SIGNATURE header against what posting costs and
   * settles it on chain; the money is then the funding wallet's. Throws
   * PaymentRefusedError (with the requirements) for a payment that is
   * malformed, for another amount, asset, network or recipient, already
   * used, or that the chain refuses.
   */
  async settle(mode: Mode, header: string, cost: CostBreakdown, deadline: Date): Promise<SettledPayment> {
    const payments = this.byMode.get(mode);
    // Nothing was asked for: the payment is bad input, not a 402 a client could answer by paying.
    if (!payments) throw new ValidationError("x402Payment", `is not taken: this server takes no x402 payment for ${mode.toLowerCase()} tasks (their chain has no relayer key); pay from the balance`);
    const refuse = async (reason: string) => new PaymentRefusedError(reason, await this.required(mode, cost, deadline, reason));
    let payload: PaymentPayload;
    try {
      payload = decodePaymentSignatureHeader(header);
    } catch {
      throw await refuse("PAYMENT-SIGNATURE is not a base64-encoded x402 payment payload");
    }
    if (payload?.x402Version !== X402_VERSION) throw await refuse(`x402Version must be ${X402_VERSION}`);
    if (payload.accepted?.scheme === ESCROW_SCHEME) return this.settleEscrow(payments, payload, cost, deadline, refuse);
    const requirements = await this.exact(payments, cost);
    const accepted = payload.accepted;
    if (accepted?.scheme !== requirements.scheme || accepted.network !== requirements.network) {
      throw await refuse(`the payment must use scheme "${requirements.scheme}" on ${requirements.network}`);
    }
    if (typeof accepted.amount !== "string" || !/^\d+$/.test(accepted.amount) || BigInt(accepted.amount) !== cost.totalUnits) {
      throw await refuse(`the amount must be ${cost.totalUnits} base units (${formatUsd(cost.totalUnits)} USDC: reward + fee)`);
    }
    // One relayer nonce at a time; verification runs inside, so a payment sent twice is checked against the first's outcome.
    const outcome = payments.queue.then(() => this.verifyAndSettle(payments, payload, requirements));
    payments.queue = outcome.catch(() => undefined);
    const settled = await outcome;
    if (!settled.success) throw await refuse(describe(settled.errorReason, settled.errorMessage));
    return { scheme: requirements.scheme, payer: getAddress(settled.payer!), transaction: settled.transaction, network: settled.network, amount: cost.totalUnits, response: settled };
  }

  /**
   * The escrow scheme: the payer's receiveWithAuthorization, relayed through
   * TaskEscrow.fundWithAuthorization. Its nonce must commit to this task's
   * terms with the payer as funder; the call is simulated before it is sent.
   */
  private async settleEscrow(payments: ChainPayments, payload: PaymentPayload, cost: CostBreakdown, deadline: Date, refuse: (reason: string) => Promise<PaymentRefusedError>): Promise<SettledPayment> {
    const { chain } = payments;
    const accepted = payload.accepted;
    const extra = accepted.extra as unknown as EscrowTermsExtra;
    if (typeof extra?.taskId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(extra.taskId)) throw await refuse("extra.taskId must be the 32-byte task id of the requirements");
    const expected = await this.escrow(payments, cost, deadline, extra.taskId);
    for (const field of ["network", "asset", "payTo", "amount"] as const) {
      if (String(accepted[field]).toLowerCase() !== String(expected[field]).toLowerCase()) throw await refuse(`${field} must be ${expected[field]} (reward + fee into TaskEscrow)`);
    }
    for (const field of ["fee", "deadline", "gracePeriod"] as const) {
      if (extra[field] !== (expected.extra as unknown as EscrowTermsExtra)[field]) throw await refuse(`extra.${field} must be ${(expected.extra as unknown as EscrowTermsExtra)[field]}`);
    }
    const { authorization, signature } = (payload.payload ?? {}) as unknown as EscrowPayload;
    if (!authorization || typeof signature !== "string" || typeof authorization.from !== "string") throw await refuse("payload must hold an authorization and its signature");
    let payer: Hex;
    try {
      payer = getAddress(authorization.from);
    } catch {
      throw await refuse("authorization.from is not an address");
    }
    const terms = termsOf(payer, expected);
    if (BigInt(authorization.value ?? -1) !== terms.amount) throw await refuse("the authorized amount is not reward + fee");
    if (authorization.nonce !== fundingNonce(chain.id, chain.escrow.address, extra, terms)) {
      throw await refuse("the authorization's nonce must be TaskEscrow.fundingNonce(taskId, terms) with the paying wallet as funder");
    }
    const data = chain.escrow.fundWithAuthorization(extra.taskId, terms, BigInt(authorization.validAfter), BigInt(authorization.validBefore), signature);
    const relayer = payments.relayer;
    const outcome = payments.queue.then(async () => {
      try {
        await simulate(chain.rpc, relayer.address, { to: chain.escrow.address, data });
      } catch (err) {
        return { refused: err instanceof RpcError ? (describeRevert(err.revertData) ?? err.message) : (err as Error).message };
      }
      const hash = await payments.writer.sendTransaction({ to: getAddress(chain.escrow.address), data: data as Hex });
      const receipt = await payments.reader.waitForTransactionReceipt({ hash, timeout: 60_000 });
      return receipt.status === "success" ? { hash } : { refused: `fundWithAuthorization ${hash} reverted` };
    });
    payments.queue = outcome.catch(() => undefined);
    const settled = await outcome;
    if ("refused" in settled) throw await refuse(`TaskEscrow refused the funding: ${settled.refused}`);
    const response: SettleResponse = { success: true, payer, transaction: settled.hash, network: expected.network };
    return { scheme: ESCROW_SCHEME, payer, transaction: settled.hash, network: expected.network, amount: cost.totalUnits, response, escrow: { chainTaskId: extra.taskId, funder: payer } };
  }

  private async escrow(payments: ChainPayments, cost: CostBreakdown, deadline: Date, taskId: Hex): Promise<PaymentRequirements> {
    const { chain, network } = payments;
    const extra: EscrowTermsExtra = {
      ...(await payments.domain),
      escrowName: "HumanOps TaskEscrow",
      escrowVersion: "1",
      taskId,
      fee: cost.feeUnits.toString(),
      deadline: String(Math.ceil(deadline.getTime() / 1000)),
      gracePeriod: String(this.gracePeriodSeconds),
    };
    return {
      scheme: ESCROW_SCHEME,
      network,
      asset: chain.usdc.address,
      amount: cost.totalUnits.toString(),
      payTo: chain.escrow.address,
      maxTimeoutSeconds: PAYMENT_TIMEOUT_SECONDS,
      extra: extra as unknown as Record<string, unknown>,
    };
  }

  private async verifyAndSettle(payments: ChainPayments, payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const failed = (reason: string, message?: string): SettleResponse => ({ success: false, errorReason: reason, errorMessage: message, transaction: "", network: requirements.network });
    try {
      const verified = await payments.facilitator.verify(payload, requirements);
      if (!verified.isValid) return failed(verified.invalidReason ?? "invalid_payment", verified.invalidMessage);
      return await payments.facilitator.settle(payload, requirements);
    } catch (err) {
      // The facilitator's own diagnosis can fail too (it reads through Multicall3, which a development chain lacks).
      this.log.warn({ err: (err as Error).message }, "x402 payment could not be verified or settled");
      return failed("invalid_payment", "the chain refused the authorization");
    }
  }

  private async exact(payments: ChainPayments, cost: CostBreakdown): Promise<PaymentRequirements> {
    const { chain, network } = payments;
    return {
      scheme: "exact",
      network,
      asset: chain.usdc.address,
      amount: cost.totalUnits.toString(),
      payTo: chain.funder.address,
      maxTimeoutSeconds: PAYMENT_TIMEOUT_SECONDS,
      extra: { ...(await payments.domain) },
    };
  }

  private facilitatorFor(chain: Chain, relayerKey: Hex): ChainPayments {
    const transport = custom({ request: ({ method, params }: { method: string; params?: unknown }) => chain.rpc.request(method, params as unknown[] | undefined) });
    const viemChain = defineChain({ id: chain.id, name: chain.network, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: chain.rpcUrl ? [chain.rpcUrl] : [] } } });
    const account = privateKeyToAccount(relayerKey);
    const reader = createPublicClient({ chain: viemChain, transport, pollingInterval: chain.pollMs });
    const writer = createWalletClient({ account, chain: viemChain, transport, pollingInterval: chain.pollMs });
    const signer = toFacilitatorEvmSigner(
      {
        address: account.address,
        readContract: (args) => reader.readContract(withBytesSignature(args)),
        verifyTypedData: (args) => reader.verifyTypedData(args as Parameters<typeof reader.verifyTypedData>[0]),
        writeContract: (args) => writer.writeContract(withBytesSignature(args)),
        sendTransaction: (args) => writer.sendTransaction(args),
        waitForTransactionReceipt: (args) => reader.waitForTransactionReceipt(args),
        getCode: (args) => reader.getCode(args),
      },
      { confirmationTimeoutMs: 60_000 },
    );
    const network = `eip155:${chain.id}` as const;
    const facilitator = new x402Facilitator().register(network, new ExactEvmScheme(signer));
    const token = getAddress(chain.usdc.address);
    const domain = Promise.all([
      reader.readContract({ address: token, abi: EIP712_DOMAIN_ABI, functionName: "name" }),
      reader.readContract({ address: token, abi: EIP712_DOMAIN_ABI, functionName: "version" }),
    ]).then(([name, version]) => ({ name, version }));
    domain.catch((err: unknown) => this.log.error({ err }, "cannot read the USDC EIP-712 domain for x402"));
    return { chain, network, facilitator, domain, queue: Promise.resolve(), relayer: account, reader, writer };
  }
}

/** The facilitator's reason codes in words a client can act on. */
function describe(reason: string | undefined, message: string | undefined): string {
  const known: Record<string, string> = {
    invalid_exact_evm_payload_authorization_value_mismatch: "the authorized amount is not reward + fee",
    invalid_exact_evm_nonce_already_used: "this authorization was already used (a replayed payment)",
    invalid_exact_evm_insufficient_balance: "the paying wallet does not hold enough USDC",
    invalid_exact_evm_recipient_mismatch: "the authorization does not pay HumanOps's funding wallet",
    invalid_exact_evm_signature: "the signature does not match the authorization",
    invalid_exact_evm_payload_authorization_valid_before: "the authorization has expired",
    invalid_exact_evm_transaction_simulation_failed: "the token refused the authorization (already used, expired or not covered by the wallet's balance)",
  };
  const text = (reason && known[reason]) ?? reason ?? "the chain refused it";
  return message && !known[reason ?? ""] ? `${text} (${message.slice(0, 200)})` : text;
}
