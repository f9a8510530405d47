import { Wallet, getAddress, parseUnits } from "ethers";
import type { Logger } from "../common/logger";
import { systemClock, type Clock } from "../common/clock";
import { ForbiddenError } from "../common/errors";
import { Mode } from "../common/mode";
import { LOCAL_CHAIN_ID, type ChainDeployment, type ChainSettings, type RpcChainSettings } from "./chain.config";
import { TaskEscrowContract, UsdcContract } from "./contracts";
import { deployLocalEscrow, startLocalChain, type LocalChain } from "./local-chain";
import { HttpRpc, type Rpc } from "./rpc";
import { currentFees, type Fees } from "./transactions";

const EXPLORERS: Record<number, { network: string; url: string }> = {
  8453: { network: "base", url: "https://basescan.org" },
  84532: { network: "base-sepolia", url: "https://sepolia.basescan.org" },
};

interface ChainParts {
  mode: Mode;
  chainId: number;
  rpc: Rpc;
  deployment: ChainDeployment;
  funder: Wallet;
  guardian: Wallet;
  treasury: string;
  confirmations: number;
  pollMs: number;
  /** The most HumanOps pays per gas (CHAIN_MAX_FEE_GWEI). */
  maxFeePerGas: bigint;
  /** The funding wallet owns the token and may mint it (TestUSDC on a local chain). */
  mintable: boolean;
  /** An RPC URL others can use, when there is one to tell. */
  rpcUrl?: string;
  /** The chain runs inside this process and ends with it. */
  inProcess?: boolean;
  /** Ages the cache of the node's fees. */
  clock?: Clock;
  /** Submits x402 payments (server/x402); none, no x402 on this chain. */
  relayer?: Wallet;
}

/**
 * One chain HumanOps settles a mode's tasks on: its TaskEscrow and USDC, and
 * the platform's funding wallet and Guardian there. `key` tells deployments
 * apart (a local chain started afresh gets new contracts at new addresses).
 */
export class Chain {
  readonly mode: Mode;
  readonly id: number;
  readonly key: string;
  readonly rpc: Rpc;
  readonly escrow: TaskEscrowContract;
  readonly usdc: UsdcContract;
  readonly funder: Wallet;
  readonly guardian: Wallet;
  readonly treasury: string;
  readonly deployBlock: number;
  readonly confirmations: number;
  readonly pollMs: number;
  readonly maxFeePerGas: bigint;
  readonly mintable: boolean;
  readonly rpcUrl?: string;
  readonly inProcess: boolean;
  readonly relayer?: Wallet;
  private readonly clock: Clock;

  constructor(parts: ChainParts) {
    this.mode = parts.mode;
    this.id = parts.chainId;
    this.rpc = parts.rpc;
    this.escrow = new TaskEscrowContract(parts.deployment.taskEscrow);
    this.usdc = new UsdcContract(parts.deployment.usdc);
    this.key = `${this.id}:${this.escrow.address.toLowerCase()}`;
    this.funder = parts.funder;
    this.guardian = parts.guardian;
    this.treasury = parts.treasury;
    this.deployBlock = parts.deployment.deployBlock;
    this.confirmations = parts.confirmations;
    this.pollMs = parts.pollMs;
    this.maxFeePerGas = parts.maxFeePerGas;
    this.mintable = parts.mintable;
    this.rpcUrl = parts.rpcUrl;
    this.inProcess = parts.inProcess ?? false;
    this.clock = parts.clock ?? systemClock;
    this.relayer = parts.relayer;
  }

  /** "base", "base-sepolia", "local" or "chain-<id>". */
  get network(): string {
    return EXPLORERS[this.id]?.network ?? (this.id === LOCAL_CHAIN_ID ? "local" : `chain-${this.id}`);
  }

  /** Basescan's page for a transaction; null on a chain without a public explorer (a local chain). */
  txUrl(hash: string | undefined | null): string | null {
    const explorer = EXPLORERS[this.id];
    return explorer && hash ? `${explorer.url}/tx/${hash}` : null;
  }

  /** The platform wallet with this address (funder or Guardian). */
  signer(address: string): Wallet {
    const wallet = [this.funder, this.guardian].find((w) => w.address === getAddress(address));
    if (!wallet) throw new Error(`no key for ${address} on chain ${this.key}`);
    return wallet;
  }

  async head(): Promise<number> {
    return Number(BigInt(await this.rpc.request<string>("eth_blockNumber")));
  }

  /** The newest block with `confirmations` blocks on it (itself included). */
  async confirmedHead(): Promise<number> {
    return (await this.head()) - this.confirmations + 1;
  }

  /** Whether a transaction mined in `block` has the chain's confirmations (without asking the node when one is enough). */
  async isConfirmed(block: number): Promise<boolean> {
    return this.confirmations <= 1 || block <= (await this.confirmedHead());
  }

  /**
   * Current EIP-1559 fees, asked of the node at most once a second, capped
   * at `maxFeePerGas`. While the base fee is above the cap nothing can be
   * included at a price HumanOps pays: callers check `baseFeePerGas`.
   */
  async fees(): Promise<Fees> {
    const now = this.clock.now();
    if (!this.feeCache || this.feeCache.at < now - 1_000) this.feeCache = { at: now, fees: currentFees(this.rpc) };
    const fees = await this.feeCache.fees;
    const cap = (fee: bigint) => (fee < this.maxFeePerGas ? fee : this.maxFeePerGas);
    return { maxFeePerGas: cap(fees.maxFeePerGas), maxPriorityFeePerGas: cap(fees.maxPriorityFeePerGas), baseFeePerGas: fees.baseFeePerGas };
  }

  private feeCache?: { at: number; fees: Promise<Fees> };
}

/** The chains of this process: test mode's (always) and live mode's (when configured). */
export class Chains {
  private constructor(
    private readonly byMode: Map<Mode, Chain>,
    private readonly local?: LocalChain,
  ) {}

  static async start(settings: ChainSettings, log: Logger, clock: Clock = systemClock): Promise<Chains> {
    const byMode = new Map<Mode, Chain>();
    const maxFeePerGas = parseUnits(settings.maxFeeGwei, "gwei");
    let local: LocalChain | undefined;
    if (settings.test.kind === "embedded") {
      const started = await startEmbedded(settings.test.port, maxFeePerGas, clock);
      local = started.local;
      byMode.set(Mode.TEST, started.chain);
    } else {
      byMode.set(Mode.TEST, await connect(Mode.TEST, settings.test, maxFeePerGas, clock));
    }
    if (settings.live) byMode.set(Mode.LIVE, await connect(Mode.LIVE, settings.live, maxFeePerGas, clock));
    for (const chain of byMode.values()) {
      log.info(
        { mode: chain.mode, chainId: chain.id, network: chain.network, taskEscrow: chain.escrow.address, usdc: chain.usdc.address, funder: chain.funder.address, guardian: chain.guardian.address, rpc: chain.rpcUrl ? new URL(chain.rpcUrl).host : "in-process" },
        "settling on chain",
      );
    }
    return new Chains(byMode, local);
  }

  forMode(mode: Mode): Chain | undefined {
    return this.byMode.get(mode);
  }

  /** The chain a mode settles on; live mode without one is refused. */
  require(mode: Mode): Chain {
    const chain = this.byMode.get(mode);
    if (!chain) throw new ForbiddenError("live tasks settle on chain and this HumanOps server has no live chain configured (CHAIN_RPC_URL)");
    return chain;
  }

  byKey(key: string): Chain | undefined {
    return this.all().find((chain) => chain.key === key);
  }

  all(): Chain[] {
    return [...this.byMode.values()];
  }

  async stop(): Promise<void> {
    await this.local?.stop();
  }
}

/**
 * A fresh local chain for test mode with fresh platform keys (random, never
 * stored or logged: the chain lives as long as this process).
 */
async function startEmbedded(port: number | undefined, maxFeePerGas: bigint, clock: Clock): Promise<{ chain: Chain; local: LocalChain }> {
  const funder = Wallet.createRandom();
  const guardian = Wallet.createRandom();
  const relayer = Wallet.createRandom();
  const treasury = Wallet.createRandom().address;
  const local = await startLocalChain({ fundedKeys: [funder.privateKey, guardian.privateKey, relayer.privateKey], port });
  const deployment = await deployLocalEscrow(local.rpc, { deployer: new Wallet(funder.privateKey), funder: new Wallet(funder.privateKey), guardian: guardian.address, treasury });
  const chain = new Chain({
    mode: Mode.TEST,
    chainId: LOCAL_CHAIN_ID,
    rpc: local.rpc,
    deployment,
    funder: new Wallet(funder.privateKey),
    guardian: new Wallet(guardian.privateKey),
    treasury,
    confirmations: 1,
    pollMs: 25,
    maxFeePerGas,
    mintable: true,
    rpcUrl: local.url,
    inProcess: true,
    clock,
    relayer: new Wallet(relayer.privateKey),
  });
  return { chain, local };
}

/** Connects to a configured chain and checks it is the one described, before anything is sent to it. */
async function connect(mode: Mode, settings: RpcChainSettings, maxFeePerGas: bigint, clock: Clock): Promise<Chain> {
  const rpc = new HttpRpc(settings.rpcUrl);
  const prefix = mode === Mode.TEST ? "TEST_CHAIN_" : "CHAIN_";
  const chainId = Number(BigInt(await rpc.request<string>("eth_chainId")));
  if (chainId !== settings.chainId) throw new Error(`${prefix}RPC_URL serves chain ${chainId}, not ${prefix}ID ${settings.chainId}`);
  if ((await rpc.request<string>("eth_getCode", [settings.deployment.taskEscrow, "latest"])) === "0x") {
    throw new Error(`${prefix}DEPLOYMENT: there is no contract at TaskEscrow ${settings.deployment.taskEscrow} on chain ${chainId}`);
  }
  const funder = settings.keys.funder.wallet();
  const guardian = settings.keys.guardian.wallet();
  const escrow = new TaskEscrowContract(settings.deployment.taskEscrow);
  if (!(await escrow.isGuardian(rpc, guardian.address))) {
    throw new Error(`${prefix}GUARDIAN_KEY: ${guardian.address} does not hold GUARDIAN_ROLE on TaskEscrow ${escrow.address}`);
  }
  const usdc = new UsdcContract(settings.deployment.usdc);
  const mintable = mode === Mode.TEST;
  if (mintable && (await usdc.owner(rpc).catch(() => undefined)) !== funder.address) {
    throw new Error(`${prefix}FUNDER_KEY: test mode mints test USDC, so the funding wallet ${funder.address} must own the TestUSDC at ${usdc.address}`);
  }
  return new Chain({
    mode,
    chainId,
    rpc,
    deployment: settings.deployment,
    funder,
    guardian,
    treasury: await escrow.treasury(rpc),
    confirmations: settings.confirmations,
    pollMs: settings.pollMs,
    maxFeePerGas,
    mintable,
    rpcUrl: settings.rpcUrl,
    clock,
    relayer: settings.keys.relayer?.wallet(),
  });
}
