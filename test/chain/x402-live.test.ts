import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";
import { Wallet } from "ethers";
import { toHex } from "../../server/chain/rpc";
import { Mode } from "../../server/common/mode";
import { testDatabases, type TestDatabase } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { RestClient, restTaskBody } from "../support/rest-client";
import { gasFundedWallet, linkWallet, ownedChain, usdcBalance, USDC, type OwnedChain } from "./support/chain";

/** A live chain of our own, and a server settling live tasks on it with `env` on top (and CHAIN_RELAYER_KEY, given a relayer: it gets gas). */
async function liveServer(db: TestDatabase, env: Record<string, string>, relayer?: Wallet): Promise<{ owned: OwnedChain; server: TestServer; rest: RestClient }> {
  const owned = await ownedChain();
  if (relayer) await owned.rpc.request("hardhat_setBalance", [relayer.address, toHex(10n ** 20n)]);
  const server = await startServer(db, { ...owned.env("CHAIN_"), CHAIN_POLL_MS: "20", ...(relayer ? { CHAIN_RELAYER_KEY: relayer.privateKey } : {}), ...env });
  return { owned, server, rest: await RestClient.connect(server.url) };
}

/** An agent with a live key and nothing in its live balance, and a wallet of its own holding `usdc`. */
async function walletAgent(live: { owned: OwnedChain; server: TestServer }, name: string, usdc: bigint): Promise<{ liveKey: string; wallet: Wallet }> {
  const agent = await registerAgent(live.server.client, name);
  const wallet = await gasFundedWallet(live.owned.rpc);
  const liveKey = (await linkWallet(live.server.client, agent.apiKey, wallet))!;
  await live.owned.mint(wallet.address, usdc);
  return { liveKey, wallet };
}

function payingClient(owned: OwnedChain, wallet: Wallet): x402Client {
  const client = new x402Client();
  client.setSpendControls({ allowedAssets: [{ network: "eip155:31337", asset: owned.usdc.address, maxAmountPerPayment: USDC(1_000).toString() }] });
  return registerExactEvmScheme(client, { signer: privateKeyToAccount(wallet.privateKey as `0x${string}`) });
}

for (const db of testDatabases()) {
  describe(`x402 on a live chain without a relayer key: no payment is offered (${db.name})`, () => {
    let live: Awaited<ReturnType<typeof liveServer>>;

    before(async () => {
      live = await liveServer(db, {});
    });
    after(async () => {
      await live.server.stop();
      await live.owned.stop();
    });

    it("a 402 carries no requirements (its body as ever), GraphQL names no x402 requirements, and a payment sent anyway is refused naming PAYMENT-SIGNATURE; nothing is posted", async () => {
      expect(live.server.app.services.payments.offered(Mode.LIVE)).to.equal(false);
      const { liveKey, wallet } = await walletAgent(live, "no-relayer", USDC(50));
      const refused = await live.rest.post("/tasks", restTaskBody(), liveKey, { "Idempotency-Key": randomUUID() });
      expect(refused.status).to.equal(402);
      expect(refused.body).to.deep.equal({ error: { code: "INSUFFICIENT_FUNDS", message: "insufficient balance: this needs 16.50 USDC and 0.00 USDC is available" } });
      expect(refused.headers.get("PAYMENT-REQUIRED")).to.equal(null);
      const graphql = await live.server.client.fails(POST_TASK, { input: taskInput() }, liveKey);
      expect(graphql.extensions?.code).to.equal("INSUFFICIENT_FUNDS");
      expect(graphql.extensions?.details).to.deep.equal({ requiredUsd: "16.50", availableUsd: "0.00" });

      // A payment signed for this chain's funding wallet, as a client would sign one from elsewhere.
      const requirements: PaymentRequired = {
        x402Version: 2,
        resource: { url: "/api/v1/tasks", description: "", mimeType: "application/json" },
        accepts: [{ scheme: "exact", network: "eip155:31337", asset: live.owned.usdc.address, amount: "16500000", payTo: live.owned.funder.address, maxTimeoutSeconds: 300, extra: { name: "USD Coin", version: "2" } }],
      };
      const payment = encodePaymentSignatureHeader(await payingClient(live.owned, wallet).createPaymentPayload(requirements));
      const paid = await live.rest.post("/tasks", restTaskBody(), liveKey, { "PAYMENT-SIGNATURE": payment });
      expect(paid.status).to.equal(400);
      expect(paid.body.error).to.deep.include({ code: "BAD_USER_INPUT", field: "PAYMENT-SIGNATURE" });
      expect(paid.body.error.message).to.match(/takes no x402 payment for live tasks \(their chain has no relayer key\); pay from the balance/);
      expect((await live.rest.get("/tasks", liveKey)).body.pagination.total).to.equal(0);
      expect(await usdcBalance(live.server.app.chains.require(Mode.LIVE), wallet.address), "nothing left the wallet").to.equal(USDC(50));
    });
  });

  describe(`x402 on a live chain: spend caps are checked before a payment is settled (${db.name})`, () => {
    let live: Awaited<ReturnType<typeof liveServer>>;

    before(async () => {
      live = await liveServer(
        db,
        {
          NEW_ACCOUNT_DAYS: "0",
        SPEND_CAP_TASK_USD: "100",
        SPEND_CAP_DAY_USD: "100",
        NEW_ACCOUNT_SPEND_CAP_TASK_USD: "100",
        NEW_ACCOUNT_SPEND_CAP_DAY_USD: "100",
        },
        new Wallet(Wallet.createRandom().privateKey),
      );
    });
    after(async () => {
      await live.server.stop();
      await live.owned.stop();
    });

    it("a paid task counts in the daily cap; a payment over a cap is refused (LIMIT_EXCEEDED) before it is settled: nothing leaves the wallet, nothing is posted", async () => {
      const chain = live.server.app.chains.require(Mode.LIVE);
      const { liveKey, wallet } = await walletAgent(live, "capped-payer", USDC(200));
      const pay = wrapFetchWithPayment(fetch, payingClient(live.owned, wallet));
      const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
        pay(`${live.rest.base}/tasks`, { method: "POST", headers: { "X-API-Key": liveKey, "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

      const first = await post(restTaskBody({ reward_usd: 60 }));
      expect(first.status, await first.clone().text()).to.equal(201);
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC(134));

      // Over the per-task cap: refused at once, with no payment asked for.
      const overTask = await live.rest.post("/tasks", restTaskBody({ reward_usd: 95 }), liveKey);
      expect(overTask.status).to.equal(422);
      expect(overTask.body.error).to.deep.include({ code: "LIMIT_EXCEEDED", field: "reward_usd" });
      expect(overTask.headers.get("PAYMENT-REQUIRED")).to.equal(null);

      // Over the daily cap with a payment signed for it: the x402 posting of 66 counts, so 44 more is refused before settling.
      const within = await live.rest.post("/tasks", restTaskBody({ reward_usd: 30 }), liveKey);
      expect(within.status, "33 more fits the day: a payment is asked for").to.equal(402);
      const required = decodePaymentRequiredHeader(within.headers.get("PAYMENT-REQUIRED")!);
      const forMore: PaymentRequired = { ...required, accepts: [{ ...required.accepts[0], amount: "44000000" }] };
      const payment = encodePaymentSignatureHeader(await payingClient(live.owned, wallet).createPaymentPayload(forMore));
      const overDay = await live.rest.post("/tasks", restTaskBody({ reward_usd: 40 }), liveKey, { "PAYMENT-SIGNATURE": payment });
      expect(overDay.status).to.equal(422);
      expect(overDay.body.error).to.deep.include({ code: "LIMIT_EXCEEDED", field: "reward_usd" });
      expect(overDay.body.error.message).to.match(/44\.00 USDC and 66\.00 USDC was committed in the last 24 hours: over the daily spend cap of 100\.00 USDC/);
      await live.server.app.escrow.idle();
      expect(await usdcBalance(chain, wallet.address), "nothing was settled").to.equal(USDC(134));
      expect((await live.rest.get("/tasks", liveKey)).body.pagination.total, "only the first task").to.equal(1);
    });
  });
}
