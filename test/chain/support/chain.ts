import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import type { HumanOps } from "../../../server/app";
import type { Chain } from "../../../server/chain/chains";
import type { ChainDeployment } from "../../../server/chain/chain.config";
import type { DatabaseConfig } from "../../../server/config";
import type { TestDatabase } from "../../support/databases";
import { TaskEscrowContract, UsdcContract, type Log } from "../../../server/chain/contracts";
import { devAccounts, deployLocalEscrow, startLocalChain, type LocalChain } from "../../../server/chain/local-chain";
import { toHex, type Rpc } from "../../../server/chain/rpc";
import { sendAndConfirm } from "../../../server/chain/transactions";
import { compareBooksAtRest } from "../../../server/escrow/books";
import { Mode } from "../../../server/common/mode";
import type { GraphQLClient } from "../../support/graphql-client";
import { REGISTER_OPERATOR, registerAgent } from "../../support/fixtures";
import type { TestServer } from "../../support/server";

export const USDC = (amount: number | string): bigint => {
  const [whole, fraction = ""] = String(amount).split(".");
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
};

/** The test-mode chain of a server started in this process. */
export function testChain(app: HumanOps): Chain {
  return app.chains.forMode(Mode.TEST)!;
}

/**
 * Waits for the chain outbox to drain and the indexers to catch up, then holds
 * the books to the chain: every total the ledger keeps for each chain (escrow,
 * funding wallet, operator payouts, treasury fees) equals the chain's own,
 * payouts and fees summed from TaskReleased logs read afresh from the chain.
 * The two sides are compared at rest, with nothing queued: a test-mode task
 * the mock operator is still working on may queue its release while they are
 * read, and then the comparison is made again once that has settled.
 */
export async function expectBooksMatchChain(app: HumanOps, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await app.escrow.idle();
    // At rest with nothing queued either: a queued refund is money the books have returned to an agent and the chain not yet.
    const quiet = async (chain: Chain) => {
      const atRest = await compareBooksAtRest(app.orm.em.fork(), chain, { scanChain: true });
      return atRest && atRest.activity.open === 0 ? atRest : null;
    };
    const compared = await Promise.all(app.chains.all().map(async (chain) => ({ chain, atRest: await quiet(chain) })));
    if (compared.every(({ atRest }) => atRest) || Date.now() > until) {
      for (const { chain, atRest } of compared) {
        expect(atRest, `${chain.mode} chain: settlement kept moving for ${timeoutMs} ms`).to.not.equal(null);
        for (const [name, line] of Object.entries(atRest!.books)) {
          expect(line.ledger, `${chain.mode} chain, ${name}: the ledger's total against the chain's`).to.equal(line.chain);
        }
      }
      return;
    }
  }
}

export async function usdcBalance(chain: { rpc: Rpc; usdc: UsdcContract }, address: string): Promise<bigint> {
  return chain.usdc.balanceOf(chain.rpc, address);
}

/** A fresh address nobody else pays into, so its balance shows exactly what one test paid it. */
export function freshAddress(): string {
  return Wallet.createRandom().address;
}

/** A wallet with ETH for gas on a local chain (Hardhat's hardhat_setBalance). */
export async function gasFundedWallet(rpc: Rpc): Promise<Wallet> {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  await rpc.request("hardhat_setBalance", [wallet.address, toHex(10n ** 20n)]);
  return wallet;
}

export async function transferUsdc(chain: { id?: number; rpc: Rpc; usdc: UsdcContract }, from: Wallet, to: string, amount: bigint): Promise<string> {
  const receipt = await sendAndConfirm(chain.rpc, chain.id ?? 31337, from, { to: chain.usdc.address, data: chain.usdc.transfer(to, amount) });
  return receipt.transactionHash;
}

/** Links `wallet` to the agent holding `apiKey` through GraphQL, as an agent's code would; returns the live key if one was issued. */
export async function linkWallet(client: GraphQLClient, apiKey: string, wallet: { address: string; signMessage(message: string): Promise<string> }): Promise<string | null> {
  const { walletLinkChallenge } = await client.ok(`mutation { walletLinkChallenge { message expiresAt } }`, {}, apiKey);
  const signature = await wallet.signMessage(walletLinkChallenge.message);
  const { linkWallet } = await client.ok(
    `mutation($address: String!, $signature: String!) { linkWallet(address: $address, signature: $signature) { wallet { address } liveApiKey } }`,
    { address: wallet.address, signature },
    apiKey,
  );
  expect(linkWallet.wallet.address).to.equal(getAddress(wallet.address));
  return linkWallet.liveApiKey;
}

const CREDIT = `mutation($txHash: String!) { creditDeposit(txHash: $txHash) { amount { units } mode } }`;

/** A registered agent with a linked wallet and `deposit` USDC sent from it and credited to its live balance (by the indexer). */
export async function agentWithLiveDeposit(server: TestServer, owned: OwnedChain, name: string, deposit: bigint): Promise<{ testKey: string; liveKey: string; wallet: Wallet }> {
  const agent = await registerAgent(server.client, name);
  const wallet = await gasFundedWallet(owned.rpc);
  const liveKey = await linkWallet(server.client, agent.apiKey, wallet);
  await owned.mint(wallet.address, deposit);
  const txHash = await transferUsdc({ rpc: owned.rpc, usdc: owned.usdc }, wallet, server.app.chains.require(Mode.LIVE).funder.address, deposit);
  await server.app.escrow.idle();
  const { viewerAgent } = await server.client.ok(`{ viewerAgent { balance { units } } }`, {}, liveKey!);
  expect(BigInt(viewerAgent.balance.units), "the deposit is credited to the live balance").to.equal(deposit);
  const claimed = await server.client.fails(CREDIT, { txHash }, liveKey!);
  expect(claimed.extensions?.code, "the indexer credited it already").to.equal("CONFLICT");
  return { testKey: agent.apiKey, liveKey: liveKey!, wallet };
}

/** A database that outlives one server: a file for SQLite, a database for PostgreSQL (test/support/databases.ts, migrated already). */
export interface SharedDatabase {
  /** What DATABASE_URL says to a server process. */
  url: string;
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function sharedDatabase(db: TestDatabase): Promise<SharedDatabase> {
  const created = await db.create();
  const url = created.database.kind === "sqlite" ? created.database.path : created.database.url;
  return { url, config: created.database, drop: created.drop };
}

/** An operator (test key) paid to `payoutAddress`. */
export async function operatorPaidTo(client: GraphQLClient, payoutAddress: string, name = "operator"): Promise<{ testApiKey: string; liveApiKey: string; id: string }> {
  const { registerOperator } = await client.ok(REGISTER_OPERATOR, { input: { name, email: `${name}-${randomUUID()}@operators.test`, payoutAddress } });
  return { testApiKey: registerOperator.testApiKey, liveApiKey: registerOperator.liveApiKey, id: registerOperator.operator.id };
}

const ESCROW_STATUS = `query($id: ID!) { task(id: $id) { id status events { kind fromStatus toStatus reason } escrow { status chainTaskId fundTxHash releaseTxHash refundTxHash payee } } }`;

/** Polls a task until its escrow reaches one of `statuses`; returns the task with its escrow. */
export async function waitForEscrow(client: GraphQLClient, apiKey: string, id: string, statuses: string[], timeoutMs = 10_000): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { task } = await client.ok(ESCROW_STATUS, { id }, apiKey);
    if (statuses.includes(task.escrow?.status)) return task;
    if (Date.now() > until) throw new Error(`task ${id}'s escrow is ${task.escrow?.status}, not ${statuses.join("/")} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** TaskEscrow's logs of one event, read from the chain. */
export async function escrowLogs(chain: Chain, name: string): Promise<Log[]> {
  const topic = TaskEscrowContract.iface.getEvent(name)!.topicHash;
  return chain.rpc.request<Log[]>("eth_getLogs", [{ address: chain.escrow.address, topics: [topic], fromBlock: toHex(chain.deployBlock), toBlock: "latest" }]);
}

/**
 * A local chain owned by the test, served over HTTP, with TestUSDC and
 * TaskEscrow deployed by Hardhat's account #0 (so the test can mint USDC
 * without touching HumanOps's keys) and fresh platform keys. `env(prefix)`
 * points a HumanOps at it as its test chain (TEST_CHAIN_) or live chain
 * (CHAIN_). It outlives any server using it.
 */
export interface OwnedChain {
  local: LocalChain;
  url: string;
  rpc: Rpc;
  deployment: ChainDeployment;
  usdc: UsdcContract;
  deployer: Wallet;
  funder: Wallet;
  guardian: Wallet;
  treasury: string;
  env(prefix: "CHAIN_" | "TEST_CHAIN_"): Record<string, string>;
  mint(to: string, amount: bigint): Promise<void>;
  stop(): Promise<void>;
}

export async function ownedChain(options: { funderOwnsUsdc?: boolean } = {}): Promise<OwnedChain> {
  const funder = new Wallet(Wallet.createRandom().privateKey);
  const guardian = new Wallet(Wallet.createRandom().privateKey);
  const deployer = options.funderOwnsUsdc ? funder : devAccounts(1)[0];
  const treasury = freshAddress();
  const local = await startLocalChain({ fundedKeys: [funder.privateKey, guardian.privateKey], port: 0 });
  const deployment = await deployLocalEscrow(local.rpc, { deployer, funder, guardian: guardian.address, treasury });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-chain-"));
  const file = path.join(dir, "deployment.json");
  fs.writeFileSync(file, JSON.stringify(deployment));
  const usdc = new UsdcContract(deployment.usdc);
  return {
    local,
    url: local.url!,
    rpc: local.rpc,
    deployment,
    usdc,
    deployer,
    funder,
    guardian,
    treasury,
    env: (prefix) => ({
      [`${prefix}RPC_URL`]: local.url!,
      [`${prefix}ID`]: "31337",
      [`${prefix}DEPLOYMENT`]: file,
      [`${prefix}FUNDER_KEY`]: funder.privateKey,
      [`${prefix}GUARDIAN_KEY`]: guardian.privateKey,
      ...(prefix === "CHAIN_" ? { CHAIN_ALLOW_LOCAL_LIVE: "true" } : {}),
    }),
    async mint(to, amount) {
      await sendAndConfirm(local.rpc, 31337, deployer, { to: usdc.address, data: usdc.mint(to, amount) });
    },
    async stop() {
      await local.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
