import { Transaction, type Wallet } from "ethers";
import type { Log } from "./contracts";
import { RpcError, toHex, type Rpc } from "./rpc";

export interface Receipt {
  transactionHash: string;
  blockNumber: string;
  /** "0x1" mined and succeeded, "0x0" mined and reverted. */
  status: string;
  gasUsed: string;
  contractAddress?: string | null;
  logs: Log[];
  /** The account that sent the transaction. */
  from?: string;
}

export interface Call {
  to?: string;
  data: string;
}

export interface SignedTx {
  raw: string;
  hash: string;
  gasLimit: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** The latest block's base fee, which these were priced from (not signed). */
  baseFeePerGas: bigint;
}

/** EIP-1559 fees that survive a doubling of the base fee before the transaction is mined. */
export async function currentFees(rpc: Rpc): Promise<Fees> {
  const [block, tip] = await Promise.all([
    rpc.request<{ baseFeePerGas?: string }>("eth_getBlockByNumber", ["latest", false]),
    rpc.request<string>("eth_maxPriorityFeePerGas").catch(() => toHex(1_000_000n)),
  ]);
  const base = BigInt(block.baseFeePerGas ?? "0x0");
  const maxPriorityFeePerGas = BigInt(tip);
  return { maxFeePerGas: base * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas, baseFeePerGas: base };
}

/**
 * Simulates the call from `from` (a revert comes back as an RpcError with the
 * revert data) and returns a gas limit with headroom: other keys' transactions
 * may land between the simulation and this one and make it dearer (a balance
 * slot going from zero to non-zero costs 17,100 more). Only gas used is paid.
 */
export async function estimateGas(rpc: Rpc, from: string, call: Call): Promise<bigint> {
  const gas = BigInt(await rpc.request<string>("eth_estimateGas", [{ from, to: call.to, data: call.data }]));
  return gas + (gas / 2n > 30_000n ? gas / 2n : 30_000n);
}

/** Runs the call against the latest state without sending it; a revert comes back as an RpcError with the revert data. */
export async function simulate(rpc: Rpc, from: string, call: Call): Promise<void> {
  await rpc.request("eth_call", [{ from, to: call.to, data: call.data }, "latest"]);
}

/** Signs a type-2 transaction with the given nonce; nothing is sent. */
export async function signCall(
  wallet: Wallet,
  chainId: number,
  nonce: number,
  call: Call,
  gas: { gasLimit: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
): Promise<SignedTx> {
  const { gasLimit, maxFeePerGas, maxPriorityFeePerGas } = gas;
  const tx = Transaction.from({ type: 2, chainId, nonce, to: call.to ?? null, data: call.data, value: 0n, gasLimit, maxFeePerGas, maxPriorityFeePerGas });
  const raw = await wallet.signTransaction(tx);
  return { raw, hash: Transaction.from(raw).hash!, gasLimit, maxFeePerGas, maxPriorityFeePerGas };
}

export async function receiptOf(rpc: Rpc, hash: string): Promise<Receipt | null> {
  return rpc.request<Receipt | null>("eth_getTransactionReceipt", [hash]);
}

export async function waitForReceipt(rpc: Rpc, hash: string, pollMs: number, timeoutMs = 120_000): Promise<Receipt> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await receiptOf(rpc, hash);
    if (receipt) return receipt;
    if (Date.now() > until) throw new Error(`transaction ${hash} was not mined within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Signs, sends and waits for one transaction at the account's next nonce.
 * For bootstrapping a local chain, tests and benchmarks only: HumanOps's own
 * transfers go through the durable outbox (server/escrow), which persists a
 * transaction before it is sent.
 */
export async function sendAndConfirm(rpc: Rpc, chainId: number, wallet: Wallet, call: Call, pollMs = 10): Promise<Receipt> {
  const nonce = Number(BigInt(await rpc.request<string>("eth_getTransactionCount", [wallet.address, "pending"])));
  const [gasLimit, fees] = await Promise.all([estimateGas(rpc, wallet.address, call), currentFees(rpc)]);
  const signed = await signCall(wallet, chainId, nonce, call, { gasLimit, ...fees });
  await rpc.request("eth_sendRawTransaction", [signed.raw]);
  const receipt = await waitForReceipt(rpc, signed.hash, pollMs);
  if (receipt.status !== "0x1") throw new RpcError(`transaction ${signed.hash} reverted`);
  return receipt;
}
