import path from "node:path";
import type { HardhatUserConfig } from "hardhat/config";
import base from "../../../hardhat.config";

/**
 * The project's Hardhat configuration with one more network: a local chain
 * (BASESCAN_TEST_RPC_URL) whose explorer is the fake Etherscan API of
 * test/chain/basescan-verify.test.ts (BASESCAN_TEST_API_URL), as a custom
 * chain, the way hardhat-verify is pointed at any explorer it does not know.
 * hardhat-verify sends every request to api.etherscan.io/v2 when the API key
 * is one string (Etherscan's multichain API, as for Base); a key per network
 * makes it use the chain's own apiURL. The request is the same either way
 * but for v2's chainid parameter.
 */
const config: HardhatUserConfig = {
  ...base,
  paths: { ...base.paths, root: path.resolve(__dirname, "../../..") },
  networks: { ...base.networks, fakeBase: { url: process.env.BASESCAN_TEST_RPC_URL ?? "http://127.0.0.1:0" } },
  etherscan: {
    ...base.etherscan,
    apiKey: { fakeBase: process.env.BASESCAN_API_KEY ?? "" },
    customChains: [
      { network: "fakeBase", chainId: 31337, urls: { apiURL: process.env.BASESCAN_TEST_API_URL ?? "http://127.0.0.1:0/api", browserURL: "https://basescan.example" } },
    ],
  },
};

export default config;
