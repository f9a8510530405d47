import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, TASK_COMPILE_SOLIDITY_LOG_COMPILATION_ERRORS } from "hardhat/builtin-tasks/task-names";
import { TASK_VERIFY_GET_CONTRACT_INFORMATION } from "@nomicfoundation/hardhat-verify/internal/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import { etherscanLongVersion } from "./scripts/solc-long-version";
import "@nomicfoundation/hardhat-ethers";
import "@nomicfoundation/hardhat-chai-matchers";
import "@nomicfoundation/hardhat-verify";
import "@nomicfoundation/hardhat-ignition-ethers";
import "hardhat-gas-reporter";
import "solidity-coverage";

const SOLC_VERSION = "0.8.28";

// Compile offline: use the soljson.js shipped by the npm `solc` package of the
// same version instead of letting Hardhat download a compiler.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  const solcPackage = require("solc/package.json") as { version: string };
  if (solcPackage.version !== SOLC_VERSION) {
    throw new Error(`npm solc is ${solcPackage.version}, expected ${SOLC_VERSION}`);
  }
  return {
    compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: etherscanLongVersion(require("solc").version() as string),
  };
});

// Build info written before the line above still names the platform: hardhat-verify reads the version from there.
subtask(TASK_VERIFY_GET_CONTRACT_INFORMATION).setAction(async (args, _hre, runSuper) => {
  const information = (await runSuper(args)) as { solcLongVersion: string };
  return { ...information, solcLongVersion: etherscanLongVersion(information.solcLongVersion) };
});

/**
 * solc warns (code 2394) wherever `tstore` appears that transient storage
 * lives until the end of the transaction, not of the call. TaskEscrow uses it
 * on purpose and only through OpenZeppelin's ReentrancyGuardTransient, whose
 * TransientSlot sets the guard on entry and clears it before returning: the
 * use solc's own message calls safe ("reentrancy guards that are cleared at
 * the end of the call"). That one warning, at that one place, is dropped;
 * any other use of transient storage still warns.
 */
const TRANSIENT_STORAGE_WARNING = "2394";
const REENTRANCY_GUARD_SLOT = "@openzeppelin/contracts/utils/TransientSlot.sol";

interface SolcMessage {
  errorCode?: string;
  severity: string;
  sourceLocation?: { file: string };
}

subtask(TASK_COMPILE_SOLIDITY_LOG_COMPILATION_ERRORS).setAction(async (args: { output?: { errors?: SolcMessage[] } }, _hre, runSuper) => {
  const isGuardWarning = (m: SolcMessage) => m.severity === "warning" && m.errorCode === TRANSIENT_STORAGE_WARNING && m.sourceLocation?.file === REENTRANCY_GUARD_SLOT;
  const errors = args.output?.errors?.filter((message) => !isGuardWarning(message));
  return runSuper({ ...args, output: args.output && { ...args.output, errors } });
});

function accountsFromEnv(): string[] {
  const key = process.env.DEPLOYER_PRIVATE_KEY;
  return key ? [key] : [];
}

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
    },
  },
  networks: {
    hardhat: {},
    localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
    baseSepolia: {
      url: process.env.BASE_SEPOLIA_RPC_URL ?? "https://sepolia.base.org",
      chainId: 84532,
      accounts: accountsFromEnv(),
    },
    base: {
      url: process.env.BASE_RPC_URL ?? "https://mainnet.base.org",
      chainId: 8453,
      accounts: accountsFromEnv(),
    },
  },
  etherscan: {
    apiKey: process.env.BASESCAN_API_KEY ?? "",
  },
  sourcify: { enabled: false },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    currency: "USD",
  },
  paths: {
    sources: "./contracts",
    tests: "./test/contracts",
    cache: "./cache",
    artifacts: "./artifacts",
  },
  mocha: { timeout: 60_000 },
};

export default config;
