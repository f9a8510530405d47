import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";
import { parseUnits, Wallet } from "ethers";
import { ConfigError, loadConfig } from "../../server/config";
import { Chain } from "../../server/chain/chains";
import { Mode } from "../../server/common/mode";
import { HttpRpc } from "../../server/chain/rpc";

const KEY_A = `0x${"11".repeat(32)}`;
const KEY_B = `0x${"22".repeat(32)}`;

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("chain configuration", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-chain-config-"));
  const deployment = path.join(dir, "84532.json");
  fs.writeFileSync(deployment, JSON.stringify({ chainId: 84532, taskEscrow: Wallet.createRandom().address, usdc: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", deployBlock: 123 }));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("with nothing set, test mode settles on an in-process chain and there is no live chain", () => {
    const { chain } = loadConfig({});
    expect(chain.test).to.deep.equal({ kind: "embedded", port: undefined });
    expect(chain.live).to.equal(undefined);
    expect(chain.gracePeriodSeconds).to.equal(7 * 86_400);
    expect(chain.maxFeeGwei, "10 gwei at most per gas").to.equal("10");
  });

  it("caps what HumanOps pays per gas at CHAIN_MAX_FEE_GWEI, in gwei with up to 9 decimals", () => {
    expect(parseUnits(loadConfig({ CHAIN_MAX_FEE_GWEI: "0.25" }).chain.maxFeeGwei, "gwei")).to.equal(250_000_000n);
    expect(parseUnits(loadConfig({ CHAIN_MAX_FEE_GWEI: "0.000000001" }).chain.maxFeeGwei, "gwei")).to.equal(1n);
    expect(parseUnits("120", "gwei")).to.equal(120_000_000_000n);
    for (const bad of ["0", "-1", "1e3", "0.0000000001", "abc", "1000000"]) {
      expect(problems({ CHAIN_MAX_FEE_GWEI: bad }), bad).to.match(/CHAIN_MAX_FEE_GWEI: must be (a number of gwei below 1,000,000 with at most 9 decimals, e\.g\. 0\.5|above 0)/);
    }
  });

  it("takes Base Sepolia from CHAIN_RPC_URL, CHAIN_ID, a deployment record and two keys; never prints a key", () => {
    const { chain } = loadConfig({ CHAIN_RPC_URL: "https://sepolia.base.org", CHAIN_ID: "84532", CHAIN_DEPLOYMENT: deployment, CHAIN_FUNDER_KEY: KEY_A, CHAIN_GUARDIAN_KEY: KEY_B });
    expect(chain.live).to.deep.include({ kind: "rpc", chainId: 84532, confirmations: 2 });
    expect(chain.live!.deployment.deployBlock).to.equal(123);
    expect(chain.live!.keys.funder.wallet().address).to.equal(new Wallet(KEY_A).address);
    for (const shown of [JSON.stringify(chain), inspect(chain, { depth: 10 })]) {
      expect(shown).not.to.include("1111111111");
      expect(shown).not.to.include("2222222222");
    }
  });

  it("names every missing or bad chain variable at once", () => {
    const text = problems({ CHAIN_RPC_URL: "https://sepolia.base.org", CHAIN_GUARDIAN_KEY: "0x1234", PLATFORM_FEE_BPS: "3000" });
    expect(text).to.match(/CHAIN_GUARDIAN_KEY: must be a 0x-prefixed 32-byte hex private key/);
    expect(text).to.match(/PLATFORM_FEE_BPS: must be at most 2500/);
    const missing = problems({ CHAIN_RPC_URL: "https://sepolia.base.org" });
    expect(missing).to.match(/CHAIN_ID: is required with CHAIN_RPC_URL/);
    expect(missing).to.match(/CHAIN_DEPLOYMENT: cannot read the deployment record/);
    expect(missing).to.match(/CHAIN_FUNDER_KEY: is required with CHAIN_RPC_URL/);
    expect(missing).to.match(/CHAIN_GUARDIAN_KEY: is required with CHAIN_RPC_URL/);
    expect(problems({ CHAIN_RPC_URL: "https://mainnet.base.org", CHAIN_ID: "8453", CHAIN_DEPLOYMENT: deployment, CHAIN_FUNDER_KEY: KEY_A, CHAIN_GUARDIAN_KEY: KEY_B })).to.match(
      /CHAIN_DEPLOYMENT: .* is for chain 84532, not 8453/,
    );
  });

  it("keeps a key file's contents out of its error, and refuses a local chain for live money unless allowed", () => {
    const keyFile = path.join(dir, "keys.json");
    fs.writeFileSync(keyFile, JSON.stringify({ funder: "0xnot-a-key-but-secret", guardian: KEY_B }));
    const text = problems({ CHAIN_RPC_URL: "https://sepolia.base.org", CHAIN_ID: "84532", CHAIN_DEPLOYMENT: deployment, CHAIN_KEY_FILE: keyFile });
    expect(text).to.match(/CHAIN_KEY_FILE: .* \(funder invalid\)/);
    expect(text).not.to.include("not-a-key-but-secret");
    const local = path.join(dir, "31337.json");
    fs.writeFileSync(local, JSON.stringify({ chainId: 31337, taskEscrow: Wallet.createRandom().address, usdc: Wallet.createRandom().address, deployBlock: 1 }));
    const env = { CHAIN_RPC_URL: "http://127.0.0.1:8545", CHAIN_ID: "31337", CHAIN_DEPLOYMENT: local, CHAIN_FUNDER_KEY: KEY_A, CHAIN_GUARDIAN_KEY: KEY_B };
    expect(problems(env)).to.match(/CHAIN_ID: 31337 is a local development chain; .* CHAIN_ALLOW_LOCAL_LIVE=true/);
    expect(problems({ ...env, CHAIN_ALLOW_LOCAL_LIVE: "true", NODE_ENV: "production", API_KEY_PEPPER: "x".repeat(32) })).to.match(/cannot be the live chain when NODE_ENV=production/);
    expect(loadConfig({ ...env, CHAIN_ALLOW_LOCAL_LIVE: "true" }).chain.live?.chainId).to.equal(31337);
  });

  it("links transactions on basescan.org and sepolia.basescan.org, and nowhere for a local chain", () => {
    const chain = (chainId: number) =>
      new Chain({
        mode: Mode.LIVE,
        chainId,
        rpc: new HttpRpc("http://127.0.0.1:1"),
        deployment: { chainId, taskEscrow: Wallet.createRandom().address, usdc: Wallet.createRandom().address, deployBlock: 0 },
        funder: new Wallet(KEY_A),
        guardian: new Wallet(KEY_B),
        treasury: Wallet.createRandom().address,
        confirmations: 1,
        pollMs: 1_000,
        maxFeePerGas: 10n ** 10n,
        mintable: false,
      });
    const hash = `0x${"ab".repeat(32)}`;
    expect(chain(8453).txUrl(hash)).to.equal(`https://basescan.org/tx/${hash}`);
    expect(chain(84532).txUrl(hash)).to.equal(`https://sepolia.basescan.org/tx/${hash}`);
    expect(chain(31337).txUrl(hash)).to.equal(null);
    expect([chain(8453).network, chain(84532).network, chain(31337).network]).to.deep.equal(["base", "base-sepolia", "local"]);
  });
});
