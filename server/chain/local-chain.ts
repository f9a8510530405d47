import { ContractFactory, HDNodeWallet, Mnemonic, Wallet, getAddress } from "ethers";
import { artifact, UsdcContract } from "./contracts";
import { LOCAL_CHAIN_ID, type ChainDeployment } from "./chain.config";
import { Eip1193Rpc, type Eip1193Provider, type Rpc } from "./rpc";
import { sendAndConfirm } from "./transactions";

/**
 * A local development chain: Hardhat's EDR running inside this process
 * (automine, so a transaction is mined the moment it is sent; blocks may
 * share a timestamp, so chain time keeps to the wall clock however many
 * transactions a second arrive). HumanOps talks to it directly; with a port
 * it is also served over HTTP like `hardhat node`, for wallets, scripts and
 * other processes (the crash test's chain outlives the server it kills).
 */
export interface LocalChain {
  rpc: Rpc;
  /** http://127.0.0.1:<port> when served over HTTP. */
  url?: string;
  stop(): Promise<void>;
}

/** Hardhat's well-known development mnemonic: its accounts are funded with ETH on every local chain. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const ETH = 10n ** 18n;

/** Hardhat's development accounts #0..#(count-1), with keys (public knowledge: for local chains only). */
export function devAccounts(count: number): Wallet[] {
  const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
  return Array.from({ length: count }, (_, i) => {
    const node = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
    return new Wallet(node.privateKey);
  });
}

let devAccountCache: Wallet[] | undefined;

export async function startLocalChain(options: { fundedKeys: string[]; port?: number }): Promise<LocalChain> {
  // Loaded on demand: Hardhat (a development dependency) is only needed when this process runs the chain.
  const [{ createHardhatNetworkProvider }, { defaultHardhatNetworkParams }] = await Promise.all([
    import("hardhat/internal/hardhat-network/provider/provider"),
    import("hardhat/internal/core/config/default-config"),
  ]).catch((err: Error) => {
    throw new Error(`the in-process test chain needs the hardhat package (install development dependencies, or set TEST_CHAIN_RPC_URL): ${err.message}`);
  });
  devAccountCache ??= devAccounts(10);
  const genesisAccounts = [...options.fundedKeys, ...devAccountCache.map((w) => w.privateKey)].map((privateKey) => ({ privateKey, balance: 10_000n * ETH }));
  const provider = (await createHardhatNetworkProvider(
    {
      hardfork: defaultHardhatNetworkParams.hardfork,
      chainId: LOCAL_CHAIN_ID,
      networkId: LOCAL_CHAIN_ID,
      blockGasLimit: defaultHardhatNetworkParams.blockGasLimit,
      minGasPrice: 0n,
      automine: true,
      intervalMining: 0,
      mempoolOrder: "priority",
      chains: defaultHardhatNetworkParams.chains,
      genesisAccounts,
      allowUnlimitedContractSize: false,
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      allowBlocksWithSameTimestamp: true,
      enableTransientStorage: false,
      enableRip7212: false,
    },
    { enabled: false },
  )) as Eip1193Provider;
  if (options.port === undefined) return { rpc: new Eip1193Rpc(provider), stop: async () => undefined };

  const { JsonRpcServer } = await import("hardhat/internal/hardhat-network/jsonrpc/server");
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: options.port, provider: provider as never });
  const { port } = await server.listen();
  return { rpc: new Eip1193Rpc(provider), url: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

export interface LocalRoles {
  /** Deploys; owns TestUSDC (mints it) and is TaskEscrow's admin and pauser. */
  deployer: Wallet;
  /** The platform's funding wallet: approves TaskEscrow to pull what it escrows. */
  funder: Wallet;
  guardian: string;
  treasury: string;
}

/**
 * Deploys TestUSDC and TaskEscrow on a local chain. For test mode the
 * deployer is the funding wallet itself, so HumanOps mints the test USDC it
 * credits; a chain standing in for Base has its own deployer, as USDC's
 * issuer is nobody HumanOps controls.
 */
export async function deployLocalEscrow(rpc: Rpc, roles: LocalRoles): Promise<ChainDeployment> {
  const deploy = async (name: "TestUSDC" | "TaskEscrow", args: unknown[]) => {
    const { abi, bytecode } = artifact(name);
    const { data } = await new ContractFactory(abi, bytecode).getDeployTransaction(...args);
    const receipt = await sendAndConfirm(rpc, LOCAL_CHAIN_ID, roles.deployer, { data });
    return { address: getAddress(receipt.contractAddress!), block: Number(BigInt(receipt.blockNumber)) };
  };
  const usdc = await deploy("TestUSDC", []);
  const escrow = await deploy("TaskEscrow", [usdc.address, roles.treasury, roles.deployer.address, 86_400, roles.guardian, roles.deployer.address]);
  await sendAndConfirm(rpc, LOCAL_CHAIN_ID, roles.funder, { to: usdc.address, data: new UsdcContract(usdc.address).approveAll(escrow.address) });
  return { chainId: LOCAL_CHAIN_ID, taskEscrow: escrow.address, usdc: usdc.address, deployBlock: escrow.block };
}
