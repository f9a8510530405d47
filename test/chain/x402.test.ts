import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Wallet } from "ethers";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { privateKeyToAccount } from "viem/accounts";
import type { Chain } from "../../server/chain/chains";
import { ChainTx, ChainTxKind, ChainTxStatus } from "../../server/escrow/chain-tx.entity";
import { Intents } from "../../server/escrow/escrow.service";
import { EscrowFundingScheme } from "../../server/x402/escrow.scheme";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { RestClient, restTaskBody } from "../support/rest-client";
import { httpConnector } from "../mcp/support/connections";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expectBooksMatchChain, gasFundedWallet, linkWallet, testChain, usdcBalance, USDC, waitForEscrow } from "./support/chain";
import { Task } from "../../server/tasks/task.entity";

const BALANCE = `{ viewerAgent { balance { units } } }`;
/** A task of restTaskBody costs its reward, 15, and the 10% platform fee: 16.50 USDC. */
const REWARD = 15;

for (const db of testDatabases()) {
  describe(`x402: an agent pays for a task from its own wallet (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let rest: RestClient;

    /** A wallet holding `amount` test USDC, minted through HumanOps's own outbox (the funding wallet owns TestUSDC); it needs no ETH to pay. */
    async function walletWithUsdc(amount: bigint): Promise<Wallet> {
      const wallet = await gasFundedWallet(chain.rpc);
      await server.app.orm.em
        .fork()
        .persist(new ChainTx(chain.key, ChainTxKind.MINT, `mint:test:${randomUUID()}`, chain.funder.address, { recipient: wallet.address, amount }))
        .flush();
      await server.app.escrow.idle();
      return wallet;
    }

    /** An x402 client as an agent would set one up: its own key, and TestUSDC on the local chain allowed (it is no default asset). */
    function payingClient(wallet: Wallet): x402Client {
      const client = new x402Client();
      client.setSpendControls({ allowedAssets: [{ network: `eip155:${chain.id}`, asset: chain.usdc.address, maxAmountPerPayment: USDC(100).toString() }] });
      return registerExactEvmScheme(client, { signer: privateKeyToAccount(wallet.privateKey as `0x${string}`) });
    }

    /** fetch wrapped by @x402/fetch, keeping the PAYMENT-SIGNATURE it sent. */
    function payingFetch(wallet: Wallet, client = payingClient(wallet)): { fetch: typeof fetch; sent: string[] } {
      const sent: string[] = [];
      const recording: typeof fetch = async (input, init) => {
        const request = new Request(input, init);
        const signature = request.headers.get("PAYMENT-SIGNATURE");
        if (signature) sent.push(signature);
        return fetch(request);
      };
      return { fetch: wrapFetchWithPayment(recording, client), sent };
    }

    const postTask = (pay: typeof fetch, apiKey: string, headers: Record<string, string> = {}, body = restTaskBody()) =>
      pay(`${rest.base}/tasks`, { method: "POST", headers: { "X-API-Key": apiKey, "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

    const balanceOf = async (apiKey: string) => BigInt((await server.client.ok(BALANCE, {}, apiKey)).viewerAgent.balance.units);
    const taskCount = async (apiKey: string) => (await rest.get("/tasks", apiKey)).body.pagination.total as number;

    before(async () => {
      // A new agent's test balance (5 USDC) does not cover a 15 USDC task.
      server = await startServer(db, { TEST_MODE_STARTING_BALANCE_USD: "5" });
      chain = testChain(server.app);
      rest = await RestClient.connect(server.url);
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(() => server.stop());

    it("answers 402 INSUFFICIENT_FUNDS with the same body as before plus x402 v2 requirements: USDC on the task's chain, reward + fee to the funding wallet", async () => {
      const agent = await registerAgent(server.client, "short");
      const refused = await rest.post("/tasks", restTaskBody(), agent.apiKey, { "Idempotency-Key": randomUUID() });
      expect(refused.status).to.equal(402);
      expect(refused.body).to.deep.equal({ error: { code: "INSUFFICIENT_FUNDS", message: "insufficient balance: this needs 16.50 USDC and 5.00 USDC is available" } });
      const required = decodePaymentRequiredHeader(refused.headers.get("PAYMENT-REQUIRED")!);
      expect(required).to.deep.include({ x402Version: 2 });
      const [exact, direct] = required.accepts;
      expect(exact).to.deep.equal({ scheme: "exact", network: `eip155:${chain.id}`, asset: chain.usdc.address, amount: "16500000", payTo: chain.funder.address, maxTimeoutSeconds: 300, extra: { name: "USD Coin", version: "2" } });
      // The direct option: the wallet funds TaskEscrow itself, under these terms (it is the funder).
      expect(direct).to.deep.include({ scheme: "escrow", network: `eip155:${chain.id}`, asset: chain.usdc.address, amount: "16500000", payTo: chain.escrow.address });
      expect(direct.extra).to.deep.include({ name: "USD Coin", version: "2", escrowName: "HumanOps TaskEscrow", escrowVersion: "1", fee: "1500000", gracePeriod: String(7 * 86_400) });
      expect(direct.extra.taskId).to.match(/^0x[0-9a-f]{64}$/);
      expect(await taskCount(agent.apiKey), "nothing was posted").to.equal(0);
    });

    it("a real x402 client pays on the retry: verified and settled on chain, the escrow funded from the payment, 201 with PAYMENT-RESPONSE; the 402 was not kept under the Idempotency-Key", async () => {
      const agent = await registerAgent(server.client, "payer");
      const wallet = await walletWithUsdc(USDC(50));
      const { fetch: pay, sent } = payingFetch(wallet);
      const key = randomUUID();
      const body = restTaskBody();

      const res = await postTask(pay, agent.apiKey, { "Idempotency-Key": key }, body);
      expect(res.status, await res.clone().text()).to.equal(201);
      expect(sent, "the client retried once with a payment").to.have.length(1);
      const task = (await res.json()) as Record<string, any>;
      expect(task.x402_payment).to.deep.include({ scheme: "exact", payer: wallet.address });
      const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!);
      expect(receipt).to.deep.include({ success: true, payer: wallet.address, transaction: task.x402_payment.transaction, network: `eip155:${chain.id}` });
      expect(await usdcBalance(chain, wallet.address), "reward + fee left the wallet").to.equal(USDC(50) - USDC("16.50"));
      expect(await balanceOf(agent.apiKey), "the agent's balance is untouched").to.equal(USDC(5));

      const funded = await rest.get(`/tasks/${task.task_id}`, agent.apiKey);
      expect(funded.body.escrow).to.deep.include({ status: "FUNDED", funder: chain.funder.address, amount_usd: "16.50" });

      const again = await rest.post("/tasks", body, agent.apiKey, { "Idempotency-Key": key });
      expect(again.status, "the same key answers with the paid task, charging nothing").to.equal(201);
      expect(again.headers.get("Idempotent-Replayed")).to.equal("true");
      expect(again.body.task_id).to.equal(task.task_id);
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC(50) - USDC("16.50"));
      expect(await taskCount(agent.apiKey)).to.equal(1);

      // The payment reached the deposit address, yet it paid for the task: it is no deposit, even from a linked wallet.
      await linkWallet(server.client, agent.apiKey, wallet);
      const credit = await server.client.fails(`mutation($txHash: String!) { creditDeposit(txHash: $txHash) { amount { usd } } }`, { txHash: task.x402_payment.transaction }, agent.apiKey);
      expect(credit.message).to.match(/is the x402 payment of a task/);
      expect(await balanceOf(agent.apiKey)).to.equal(USDC(5));
    });

    it("the OpenAPI document describes PAYMENT-SIGNATURE, PAYMENT-RESPONSE and a 402's PAYMENT-REQUIRED", async () => {
      const document = (await (await fetch(`${rest.base}/openapi.json`)).json()) as Record<string, any>;
      const post = document.paths["/tasks"].post;
      expect(post.parameters.map((p: { name: string }) => p.name)).to.include("PAYMENT-SIGNATURE");
      expect(post.responses["201"].headers).to.have.property("PAYMENT-RESPONSE");
      expect(document.components.responses.Error402.headers).to.have.property("PAYMENT-REQUIRED");
    });

    it("refuses a replayed payment and an underpaid one: 402 with the requirements again, nothing posted, nothing charged", async () => {
      const agent = await registerAgent(server.client, "replayer");
      const wallet = await walletWithUsdc(USDC(50));
      const { fetch: pay, sent } = payingFetch(wallet);
      expect((await postTask(pay, agent.apiKey)).status).to.equal(201);
      const spent = await usdcBalance(chain, wallet.address);

      const replayed = await rest.post("/tasks", restTaskBody(), agent.apiKey, { "PAYMENT-SIGNATURE": sent[0], "Idempotency-Key": randomUUID() });
      expect(replayed.status).to.equal(402);
      expect(replayed.body.error).to.deep.include({ code: "INSUFFICIENT_FUNDS", field: "PAYMENT-SIGNATURE" });
      expect(replayed.body.error.message).to.match(/x402 payment was refused: .*(already used|refused the authorization)/);
      expect(decodePaymentRequiredHeader(replayed.headers.get("PAYMENT-REQUIRED")!).accepts[0].amount).to.equal("16500000");

      // Underpaid: the client signs for 1 USDC less than reward + fee.
      const required = decodePaymentRequiredHeader((await rest.post("/tasks", restTaskBody(), agent.apiKey)).headers.get("PAYMENT-REQUIRED")!);
      const short: PaymentRequired = { ...required, accepts: [{ ...required.accepts[0], amount: "15500000" }] };
      const underpaid = await payingClient(wallet).createPaymentPayload(short);
      const asSigned = await rest.post("/tasks", restTaskBody(), agent.apiKey, { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(underpaid) });
      expect(asSigned.status).to.equal(402);
      expect(asSigned.body.error.message).to.match(/amount must be 16500000 base units \(16\.50 USDC/);
      // The same authorization claiming the full amount: the facilitator checks the signed value.
      const relabelled = { ...underpaid, accepted: required.accepts[0] };
      const claimed = await rest.post("/tasks", restTaskBody(), agent.apiKey, { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(relabelled) });
      expect(claimed.status).to.equal(402);
      expect(claimed.body.error.message).to.match(/the authorized amount is not reward \+ fee/);

      const garbage = await rest.post("/tasks", restTaskBody(), agent.apiKey, { "PAYMENT-SIGNATURE": "not-a-payment" });
      expect(garbage.status).to.equal(402);
      expect(garbage.body.error.message).to.match(/not a base64-encoded x402 payment payload/);

      expect(await taskCount(agent.apiKey), "only the first, paid task exists").to.equal(1);
      expect(await usdcBalance(chain, wallet.address), "nothing more left the wallet").to.equal(spent);
      expect(await balanceOf(agent.apiKey)).to.equal(USDC(5));
    });

    it("a cancelled task paid with exact goes back to the paying wallet, not to the agent's balance", async () => {
      const agent = await registerAgent(server.client, "canceller");
      const wallet = await walletWithUsdc(USDC(20));
      const { fetch: pay } = payingFetch(wallet);
      const res = await postTask(pay, agent.apiKey, {}, restTaskBody({ test_scenario: "MANUAL" }));
      expect(res.status).to.equal(201);
      const task = (await res.json()) as Record<string, any>;
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC("3.50"));

      const cancelled = await rest.post(`/tasks/${task.task_id}/cancel`, { reason: "not needed" }, agent.apiKey);
      expect(cancelled.status).to.equal(200);
      await server.app.escrow.idle();
      const payback = await server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: Intents.payback(task.task_id) });
      expect(payback).to.deep.include({ status: ChainTxStatus.MINED, recipient: wallet.address, amount: USDC("16.50") });
      expect(await usdcBalance(chain, wallet.address), "all of it is back in the wallet").to.equal(USDC(20));
      expect(await balanceOf(agent.apiKey), "and none of it in the agent's balance").to.equal(USDC(5));
    });

    it("a task paid with exact that expires unaccepted is refunded to the paying wallet on chain, not to the agent's balance, whether or not its escrow was funded yet", async () => {
      const agent = await registerAgent(server.client, "expirer");
      const wallet = await walletWithUsdc(USDC(40));
      const { fetch: pay } = payingFetch(wallet);
      const res = await postTask(pay, agent.apiKey, {}, restTaskBody({ test_scenario: "MANUAL" }));
      expect(res.status, await res.clone().text()).to.equal(201);
      const task = (await res.json()) as Record<string, any>;
      await waitForEscrow(server.client, agent.apiKey, task.task_id, ["FUNDED"]);
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC("23.50"));

      // Its deadline passes with nobody accepting it (the expiry job is what runs at the deadline).
      await server.app.orm.em.fork().nativeUpdate(Task, { id: task.task_id }, { deadline: new Date(Date.now() - 1_000) });
      await server.app.orm.em.fork().transactional((tx) => server.app.services.tasks.expire(tx, task.task_id));
      const refunded = await waitForEscrow(server.client, agent.apiKey, task.task_id, ["REFUNDED"]);
      expect(refunded.status).to.equal("EXPIRED");
      await server.app.escrow.idle();
      const payback = await server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: Intents.payback(task.task_id) });
      expect(payback).to.deep.include({ status: ChainTxStatus.MINED, recipient: wallet.address, amount: USDC("16.50") });
      expect(await usdcBalance(chain, wallet.address), "all of it is back in the wallet").to.equal(USDC(40));

      // EXPIRE: the task expires as it is posted, often before its escrow's funding is sent; the payment goes back all the same.
      const stillborn = await postTask(pay, agent.apiKey, {}, restTaskBody({ test_scenario: "EXPIRE" }));
      expect(stillborn.status).to.equal(201);
      const { task_id: stillbornId } = (await stillborn.json()) as Record<string, any>;
      await waitForStatus(server.client, agent.apiKey, stillbornId, ["EXPIRED"]);
      await server.app.escrow.idle();
      expect(await server.app.orm.em.fork().findOneOrFail(ChainTx, { intentKey: Intents.payback(stillbornId) })).to.deep.include({ status: ChainTxStatus.MINED, recipient: wallet.address });
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC(40));
      expect(await balanceOf(agent.apiKey), "and none of it in the agent's balance").to.equal(USDC(5));
    });

    it("the direct option: the wallet signs TaskEscrow's fundWithAuthorization itself, is the escrow's funder, and a refund reaches it on chain", async () => {
      const agent = await registerAgent(server.client, "direct");
      const wallet = await walletWithUsdc(USDC(20));
      const client = new x402Client();
      client.setSpendControls({ allowedAssets: [{ network: `eip155:${chain.id}`, asset: chain.usdc.address, maxAmountPerPayment: USDC(100).toString() }] });
      client.register(`eip155:${chain.id}`, new EscrowFundingScheme(privateKeyToAccount(wallet.privateKey as `0x${string}`)));
      const { fetch: pay, sent } = payingFetch(wallet, client);
      const body = restTaskBody({ test_scenario: "MANUAL" });
      const res = await postTask(pay, agent.apiKey, {}, body);
      expect(res.status, await res.clone().text()).to.equal(201);
      const task = (await res.json()) as Record<string, any>;
      expect(task.x402_payment).to.deep.include({ scheme: "escrow", payer: wallet.address });
      expect(task.escrow).to.deep.include({ status: "FUNDED", funder: wallet.address, fund_tx_hash: task.x402_payment.transaction });
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC("3.50"));
      const onChain = await chain.escrow.escrowOf(chain.rpc, task.escrow.chain_task_id);
      expect(Number(onChain.state), "funded on chain").to.equal(1);

      const replayed = await rest.post("/tasks", body, agent.apiKey, { "PAYMENT-SIGNATURE": sent[0] });
      expect(replayed.status, "the same signed funding cannot pay for a second task").to.equal(402);
      expect(replayed.body.error.message).to.match(/TaskEscrow refused the funding: TaskEscrowAlreadyFunded/);
      expect(await taskCount(agent.apiKey)).to.equal(1);

      expect((await rest.post(`/tasks/${task.task_id}/cancel`, {}, agent.apiKey)).status).to.equal(200);
      await server.app.escrow.idle();
      expect(await server.app.orm.em.fork().count(ChainTx, { intentKey: Intents.payback(task.task_id) }), "TaskEscrow refunds its funder itself").to.equal(0);
      expect(await usdcBalance(chain, wallet.address), "the refund reached the wallet on chain").to.equal(USDC(20));
      expect(await balanceOf(agent.apiKey)).to.equal(USDC(5));
    });

    it("the direct option refuses an authorization whose nonce does not commit to the task's terms with the payer as funder", async () => {
      const agent = await registerAgent(server.client, "forger");
      const wallet = await walletWithUsdc(USDC(20));
      const body = restTaskBody();
      const required = decodePaymentRequiredHeader((await rest.post("/tasks", body, agent.apiKey)).headers.get("PAYMENT-REQUIRED")!);
      const direct = required.accepts[1];
      // Signed for a later deadline than the task's: the terms differ, so the funding nonce does.
      const tampered = { ...direct, extra: { ...direct.extra, deadline: String(Number(direct.extra.deadline) + 86_400) } };
      const signed = await new EscrowFundingScheme(privateKeyToAccount(wallet.privateKey as `0x${string}`)).createPaymentPayload(2, tampered);
      const claimed = await rest.post("/tasks", body, agent.apiKey, { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader({ ...signed, accepted: direct } as never) });
      expect(claimed.status).to.equal(402);
      expect(claimed.body.error.message).to.match(/nonce must be TaskEscrow\.fundingNonce/);
      expect(await taskCount(agent.apiKey)).to.equal(0);
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC(20));
    });

    it("MCP: post_task short of balance answers the x402 MCP transport's payment-required result; a real x402 client pays in _meta[\"x402/payment\"] and gets _meta[\"x402/payment-response\"]", async () => {
      const agent = await registerAgent(server.client, "mcp-payer");
      const wallet = await walletWithUsdc(USDC(40));
      const mcp = await httpConnector(server.url)(agent.apiKey);
      try {
        const args = { title: "Photo of storefront", description: "Full facade and signage", task_type: "PHOTO", location: { lat: 30.2672, lng: -97.7431 }, reward_usd: REWARD, deadline: new Date(Date.now() + 86_400_000).toISOString(), test_scenario: "MANUAL" };
        const unpaid = (await mcp.client.callTool({ name: "post_task", arguments: args })) as CallToolResult;
        expect(unpaid.isError).to.equal(true);
        const required = unpaid.structuredContent as unknown as PaymentRequired;
        expect(JSON.parse((unpaid.content[0] as { text: string }).text), "content[0].text is the same PaymentRequired as JSON").to.deep.equal(required);
        expect(required).to.deep.include({ x402Version: 2 });
        expect(required.resource).to.deep.include({ url: "mcp://tool/post_task" });
        expect(required.error).to.match(/needs 16\.50 USDC .* 5\.00 USDC is available.*_meta\["x402\/payment"\]/);
        expect(required.accepts[0]).to.deep.include({ scheme: "exact", network: `eip155:${chain.id}`, asset: chain.usdc.address, amount: "16500000", payTo: chain.funder.address });
        expect(await taskCount(agent.apiKey), "nothing was posted").to.equal(0);

        // The client reads the requirements as the transport says (structuredContent), signs, and calls again.
        const payment = await payingClient(wallet).createPaymentPayload(required);
        const paid = (await mcp.client.callTool({ name: "post_task", arguments: args, _meta: { "x402/payment": payment } })) as CallToolResult;
        expect(paid.isError, JSON.stringify(paid.content)).to.not.equal(true);
        expect(paid.structuredContent).to.deep.include({ status: "POSTED", total_usd: "16.50" });
        const receipt = paid._meta?.["x402/payment-response"] as Record<string, unknown>;
        expect(receipt).to.deep.include({ success: true, payer: wallet.address, network: `eip155:${chain.id}` });
        const task = (await rest.get(`/tasks/${(paid.structuredContent as { task_id: string }).task_id}`, agent.apiKey)).body;
        expect(task.x402_payment).to.deep.include({ scheme: "exact", payer: wallet.address, transaction: receipt.transaction });
        expect(await usdcBalance(chain, wallet.address), "reward + fee left the wallet").to.equal(USDC("23.50"));
        expect(await balanceOf(agent.apiKey), "the agent's balance is untouched").to.equal(USDC(5));

        // The same payment again: refused, with the requirements and the reason; nothing more is posted or paid.
        const replayed = (await mcp.client.callTool({ name: "post_task", arguments: args, _meta: { "x402/payment": payment } })) as CallToolResult;
        expect(replayed.isError).to.equal(true);
        expect((replayed.structuredContent as unknown as PaymentRequired).error).to.match(/x402 payment was refused: .*(already used|refused the authorization)/);
        const malformed = (await mcp.client.callTool({ name: "post_task", arguments: args, _meta: { "x402/payment": "not-a-payment" } })) as CallToolResult;
        expect(malformed.isError).to.equal(true);
        expect((malformed.content[0] as { text: string }).text).to.match(/BAD_USER_INPUT: invalid argument `_meta\["x402\/payment"\]`: must be an x402 v2 PaymentPayload object/);
        expect(await taskCount(agent.apiKey)).to.equal(1);
        expect(await usdcBalance(chain, wallet.address)).to.equal(USDC("23.50"));
        await rest.post(`/tasks/${task.task_id}/cancel`, {}, agent.apiKey);
      } finally {
        await mcp.close();
      }
    });

    it("GraphQL: INSUFFICIENT_FUNDS carries the requirements in extensions.details.x402, and postTask takes the payment as x402Payment", async () => {
      const agent = await registerAgent(server.client, "graphql");
      const wallet = await walletWithUsdc(USDC(20));
      const input = taskInput({ rewardUsd: REWARD, testScenario: "MANUAL" });
      const refused = await server.client.fails(POST_TASK, { input }, agent.apiKey);
      expect(refused.extensions?.code).to.equal("INSUFFICIENT_FUNDS");
      const required = (refused.extensions?.details as { x402: PaymentRequired }).x402;
      const payment = encodePaymentSignatureHeader(await payingClient(wallet).createPaymentPayload(required));
      const { postTask } = await server.client.ok(`mutation($input: PostTaskInput!) { postTask(input: $input) { id status x402Payment { scheme payer transaction } } }`, { input: { ...input, x402Payment: payment } }, agent.apiKey);
      expect(postTask.status).to.equal("POSTED");
      expect(postTask.x402Payment).to.deep.include({ scheme: "exact", payer: wallet.address });
      expect(await usdcBalance(chain, wallet.address)).to.equal(USDC("3.50"));
    });
  });
}
