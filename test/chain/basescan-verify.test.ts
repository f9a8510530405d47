import http from "node:http";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { AddressInfo } from "node:net";
import { AbiCoder } from "ethers";
import { expect } from "chai";
import { deployLocalEscrow, devAccounts, startLocalChain, type LocalChain } from "../../server/chain/local-chain";
import { etherscanLongVersion } from "../../scripts/solc-long-version";

const REPO = path.resolve(__dirname, "..", "..");
const run = promisify(execFile);

interface ExplorerCall {
  method: string;
  query: URLSearchParams;
  form: URLSearchParams;
}

/**
 * A local stand-in for the Etherscan API speaking the part `hardhat verify` uses: `getsourcecode` (is it verified
 * already?), `verifysourcecode` (a form POST answered with a GUID) and
 * `checkverifystatus` (pending once, then verified). Like Etherscan, it
 * refuses a compiler version that is not `v<x.y.z>+commit.<8 hex>`.
 */
async function startFakeEtherscan(): Promise<{ url: string; calls: ExplorerCall[]; close(): Promise<void> }> {
  const calls: ExplorerCall[] = [];
  let polls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const query = new URL(req.url ?? "/", "http://fake").searchParams;
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      calls.push({ method: req.method ?? "", query, form });
      const params = req.method === "POST" ? form : query;
      const answer = (body: object) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (!params.get("apikey")) return answer({ status: "0", message: "NOTOK", result: "Missing/Invalid API Key" });
      switch (params.get("action")) {
        case "getsourcecode":
          return answer({ status: "1", message: "OK", result: [{ SourceCode: "", ABI: "Contract source code not verified", ContractName: "" }] });
        case "verifysourcecode":
          if (!/^v\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}$/.test(params.get("compilerversion") ?? "")) {
            return answer({ status: "0", message: "NOTOK", result: "Invalid compilerversion" });
          }
          return answer({ status: "1", message: "OK", result: "fakeguid0123456789abcdefghijklmnopqrstuvwxyz0123456" });
        case "checkverifystatus":
          polls += 1;
          return answer({ status: polls === 1 ? "0" : "1", message: polls === 1 ? "NOTOK" : "OK", result: polls === 1 ? "Pending in queue" : "Pass - Verified" });
        default:
          return answer({ status: "0", message: "NOTOK", result: "Error! Missing Or invalid Action name" });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v2/api`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("Basescan verification (hardhat verify against a local Etherscan API)", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let explorer: Awaited<ReturnType<typeof startFakeEtherscan>>;

  before(async () => {
    chain = await startLocalChain({ fundedKeys: [], port: 0 });
    explorer = await startFakeEtherscan();
  });
  after(async () => {
    await explorer?.close();
    await chain?.stop();
  });

  it("names the compiler as Etherscan lists it (without soljson's .Emscripten.clang)", () => {
    expect(etherscanLongVersion("0.8.28+commit.7893614a.Emscripten.clang")).to.equal("0.8.28+commit.7893614a");
    expect(etherscanLongVersion("0.8.28+commit.7893614a")).to.equal("0.8.28+commit.7893614a");
    expect(() => etherscanLongVersion("0.8.28")).to.throw(/unexpected solc version/);
  });

  it("submits TaskEscrow with the listed compiler version, its name, constructor arguments and optimizer settings", async () => {
    const [deployer, funder] = devAccounts(2);
    const deployment = await deployLocalEscrow(chain.rpc, { deployer, funder, guardian: devAccounts(4)[3].address, treasury: devAccounts(5)[4].address });
    const args = [deployment.usdc, devAccounts(5)[4].address, deployer.address, "86400", devAccounts(4)[3].address, deployer.address];
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TS_NODE_|HARDHAT_)/.test(name) && !/_proxy$/i.test(name)));
    const { stdout } = await run(
      process.execPath,
      [path.join(REPO, "node_modules/hardhat/internal/cli/bootstrap.js"), "--config", "test/chain/support/basescan.hardhat.config.ts", "verify", "--network", "fakeBase", deployment.taskEscrow, ...args],
      { cwd: REPO, env: { ...env, BASESCAN_API_KEY: "fake-basescan-key", BASESCAN_TEST_RPC_URL: chain.url!, BASESCAN_TEST_API_URL: explorer.url }, timeout: 100_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`hardhat verify failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
    });
    expect(stdout).to.match(/Successfully verified contract TaskEscrow/);

    const submitted = explorer.calls.filter((call) => call.form.get("action") === "verifysourcecode");
    expect(submitted, "one submission").to.have.length(1);
    const [{ form }] = submitted;
    expect(Object.fromEntries([...form].filter(([name]) => name !== "sourceCode" && name !== "constructorArguements"))).to.deep.equal({
      apikey: "fake-basescan-key",
      module: "contract",
      action: "verifysourcecode",
      contractaddress: deployment.taskEscrow,
      codeformat: "solidity-standard-json-input",
      contractname: "contracts/TaskEscrow.sol:TaskEscrow",
      compilerversion: "v0.8.28+commit.7893614a",
    });
    const encoded = AbiCoder.defaultAbiCoder().encode(["address", "address", "address", "uint48", "address", "address"], args).slice(2);
    expect(form.get("constructorArguements")).to.equal(encoded);
    const input = JSON.parse(form.get("sourceCode")!) as { language: string; sources: Record<string, unknown>; settings: Record<string, any> };
    expect(input.language).to.equal("Solidity");
    expect(input.settings.optimizer).to.deep.equal({ enabled: true, runs: 10_000 });
    expect(input.settings.evmVersion).to.equal("cancun");
    expect(Object.keys(input.sources)).to.include("contracts/TaskEscrow.sol");
    expect(explorer.calls.filter((call) => call.query.get("action") === "checkverifystatus").map((call) => call.query.get("guid"))).to.deep.equal([
      "fakeguid0123456789abcdefghijklmnopqrstuvwxyz0123456",
      "fakeguid0123456789abcdefghijklmnopqrstuvwxyz0123456",
    ]);
  });
});
