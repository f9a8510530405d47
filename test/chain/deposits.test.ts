import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { Wallet } from "ethers";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent } from "../support/fixtures";
import type { Chain } from "../../server/chain/chains";
import { ChainTx, ChainTxKind } from "../../server/escrow/chain-tx.entity";
import { expectBooksMatchChain, gasFundedWallet, linkWallet, testChain, transferUsdc, USDC } from "./support/chain";

const BALANCE = `{ viewerAgent { balance { units } } }`;
const CREDIT = `mutation($txHash: String!) { creditDeposit(txHash: $txHash) { txHash fromAddress amount { units } mode blockNumber } }`;
const LINK = `mutation($address: String!, $signature: String!) { linkWallet(address: $address, signature: $signature) { wallet { address } liveApiKey } }`;
const CHALLENGE = `mutation { walletLinkChallenge { message expiresAt } }`;

for (const db of testDatabases()) {
  describe(`wallets and deposits (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;

    /** A wallet with gas and `amount` test USDC, minted through HumanOps's own outbox (the funding wallet owns TestUSDC). */
    async function walletWithUsdc(amount: bigint): Promise<Wallet> {
      const wallet = await gasFundedWallet(chain.rpc);
      await server.app.orm.em
        .fork()
        .persist(new ChainTx(chain.key, ChainTxKind.MINT, `mint:test:${randomUUID()}`, chain.funder.address, { recipient: wallet.address, amount }))
        .flush();
      await server.app.escrow.idle();
      return wallet;
    }

    const balance = async (apiKey: string) => BigInt((await server.client.ok(BALANCE, {}, apiKey)).viewerAgent.balance.units);

    before(async () => {
      server = await startServer(db);
      chain = testChain(server.app);
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(() => server.stop());

    it("links a wallet by a signed challenge; the first link issues the agent's live key, once", async () => {
      const agent = await registerAgent(server.client, "linker");
      const first = Wallet.createRandom();
      const liveKey = await linkWallet(server.client, agent.apiKey, first);
      expect(liveKey).to.match(/^ho_live_/);
      const { viewerAgent } = await server.client.ok(`{ viewerAgent { mode } }`, {}, liveKey!);
      expect(viewerAgent.mode).to.equal("LIVE");
      expect(await linkWallet(server.client, agent.apiKey, Wallet.createRandom()), "a second wallet issues no second key").to.equal(null);
      const { viewerAgent: linked } = await server.client.ok(`{ viewerAgent { wallets { address } } }`, {}, agent.apiKey);
      expect(linked.wallets).to.have.length(2);

      const { walletLinkChallenge } = await server.client.ok(CHALLENGE, {}, agent.apiKey);
      expect(walletLinkChallenge.message).to.include(`Agent: ${agent.id}`);
      const impostor = await Wallet.createRandom().signMessage(walletLinkChallenge.message);
      const refused = await server.client.fails(LINK, { address: Wallet.createRandom().address, signature: impostor }, agent.apiKey);
      expect(refused.extensions).to.include({ code: "BAD_USER_INPUT", field: "signature" });
      const garbled = await server.client.fails(LINK, { address: "0x123", signature: impostor }, agent.apiKey);
      expect(garbled.extensions).to.include({ code: "BAD_USER_INPUT", field: "address" });

      const other = await registerAgent(server.client, "other");
      const { walletLinkChallenge: theirs } = await server.client.ok(CHALLENGE, {}, other.apiKey);
      const taken = await server.client.fails(LINK, { address: first.address, signature: await first.signMessage(theirs.message) }, other.apiKey);
      expect(taken.extensions?.code).to.equal("CONFLICT");
    });

    it("credits a deposit from a linked wallet once per transaction hash; the same hash again is refused", async () => {
      const agent = await registerAgent(server.client, "depositor");
      const wallet = await walletWithUsdc(USDC(1_000));
      await linkWallet(server.client, agent.apiKey, wallet);
      const { depositAddress } = await server.client.ok(`{ depositAddress { address mode chainId network usdc confirmations linkedWallets } }`, {}, agent.apiKey);
      expect(depositAddress).to.deep.equal({
        address: chain.funder.address,
        mode: "TEST",
        chainId: 31337,
        network: "local",
        usdc: chain.usdc.address,
        confirmations: 1,
        linkedWallets: [wallet.address],
      });
      const before = await balance(agent.apiKey);
      // The indexer would credit it too: paused, so that this credit is the agent's own call.
      await server.app.escrow.stop();
      let txHash: string;
      try {
        txHash = await transferUsdc(chain, wallet, depositAddress.address, USDC(250));
        const { creditDeposit } = await server.client.ok(CREDIT, { txHash }, agent.apiKey);
        expect(creditDeposit).to.deep.include({ txHash, fromAddress: wallet.address, amount: { units: "250000000" }, mode: "TEST" });
      } finally {
        await server.app.escrow.start();
      }
      expect(await balance(agent.apiKey)).to.equal(before + USDC(250));

      const again = await server.client.fails(CREDIT, { txHash }, agent.apiKey);
      expect(again.extensions?.code).to.equal("CONFLICT");
      expect(again.message).to.match(/already credited/);
      expect(await balance(agent.apiKey)).to.equal(before + USDC(250));

      const { viewerAgent } = await server.client.ok(`{ viewerAgent { ledgerTransactions(first: 1) { nodes { kind direction amount { units } } } deposits { txHash } } }`, {}, agent.apiKey);
      expect(viewerAgent.ledgerTransactions.nodes).to.deep.equal([{ kind: "DEPOSIT", direction: "CREDIT", amount: { units: "250000000" } }]);
      expect(viewerAgent.deposits.map((d: any) => d.txHash)).to.deep.equal([txHash]);

      const malformed = await server.client.fails(CREDIT, { txHash: "0xabc" }, agent.apiKey);
      expect(malformed.extensions).to.include({ code: "BAD_USER_INPUT", field: "txHash" });
    });

    it("the indexer credits confirmed deposits on its own, and a hash it credited cannot be claimed again", async () => {
      const agent = await registerAgent(server.client, "patient");
      const wallet = await walletWithUsdc(USDC(100));
      await linkWallet(server.client, agent.apiKey, wallet);
      const before = await balance(agent.apiKey);
      const txHash = await transferUsdc(chain, wallet, chain.funder.address, USDC(40));
      await server.app.escrow.idle();
      expect(await balance(agent.apiKey)).to.equal(before + USDC(40));
      const claimed = await server.client.fails(CREDIT, { txHash }, agent.apiKey);
      expect(claimed.extensions?.code).to.equal("CONFLICT");
    });

    it("USDC from a wallet nobody linked is held unattributed; no agent can claim it", async () => {
      const agent = await registerAgent(server.client, "bystander");
      const stranger = await walletWithUsdc(USDC(10));
      const txHash = await transferUsdc(chain, stranger, chain.funder.address, USDC(5));
      const refused = await server.client.fails(CREDIT, { txHash }, agent.apiKey);
      expect(refused.extensions?.code).to.equal("FORBIDDEN");
      expect(refused.message).to.match(/not a wallet linked to this agent/);
    });
  });
}
