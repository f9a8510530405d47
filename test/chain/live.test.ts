import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { REGISTER_OPERATOR, taskInput, waitForStatus } from "../support/fixtures";
import { generatePhoto } from "../../server/photos/photo.samples";
import { Mode } from "../../server/common/mode";
import { KycStatus, Operator } from "../../server/operators/operator.entity";
import type { Chain } from "../../server/chain/chains";
import { agentWithLiveDeposit, expectBooksMatchChain, freshAddress, ownedChain, usdcBalance, USDC, type OwnedChain } from "./support/chain";

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id status mode escrow { status chainId fundTxHash } } }`;
const TASKS = `{ tasks { totalCount } viewerAgent { balance { units } } }`;
const proof = { photos: [1, 2].map((seed) => ({ dataBase64: generatePhoto(seed).toString("base64"), contentType: "image/png" })) };

for (const db of testDatabases()) {
  describe(`live mode on a configured chain (${db.name})`, () => {
    let owned: OwnedChain;
    let server: TestServer;
    let live: Chain;

    const liveAgent = (name: string, deposit: bigint) => agentWithLiveDeposit(server, owned, name, deposit);

    before(async () => {
      owned = await ownedChain();
      server = await startServer(db, {
        ...owned.env("CHAIN_"),
        CHAIN_POLL_MS: "20",
        NEW_ACCOUNT_SPEND_CAP_TASK_USD: "100",
        NEW_ACCOUNT_SPEND_CAP_DAY_USD: "250",
      });
      live = server.app.chains.forMode(Mode.LIVE)!;
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(async () => {
      await server.stop();
      await owned.stop();
    });

    it("a live task is funded from deposits, taken only by a KYC-approved operator, reviewed by its agent (no vision model) and paid on the live chain", async () => {
      const agent = await liveAgent("live-payer", USDC(500));
      const payout = freshAddress();
      const { registerOperator } = await server.client.ok(REGISTER_OPERATOR, { input: { name: "live op", email: `live-${Date.now()}@operators.test`, payoutAddress: payout } });
      const operatorKey = registerOperator.liveApiKey;
      const treasuryBefore = await usdcBalance(live, owned.treasury);

      const { postTask } = await server.client.ok(POST, { input: taskInput({ rewardUsd: 20 }) }, agent.liveKey);
      expect(postTask).to.deep.include({ mode: "LIVE", status: "POSTED" });
      expect(postTask.escrow).to.include({ status: "FUNDED", chainId: 31337 });
      expect(await usdcBalance(live, live.escrow.address)).to.equal(USDC(22));

      const unverified = await server.client.fails(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operatorKey);
      expect(unverified.extensions?.code).to.equal("FORBIDDEN");
      expect(unverified.message).to.match(/KYC/);
      await server.app.orm.em.fork().nativeUpdate(Operator, { id: registerOperator.operator.id }, { kycStatus: KycStatus.APPROVED });
      await server.client.ok(`mutation($id: ID!) { acceptTask(id: $id) { status } }`, { id: postTask.id }, operatorKey);
      await server.client.ok(`mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`, { id: postTask.id, input: proof }, operatorKey);
      // Without a vision model no live proof is approved automatically: the Guardian's best is the review band, and the agent decides.
      const review = await waitForStatus(server.client, agent.liveKey, postTask.id, ["MANUAL_REVIEW"]);
      expect(review.verification).to.include({ verdict: "REVIEW", score: 89 });
      expect(review.verification.checks.find((c: any) => c.name === "vision")).to.include({ outcome: "SKIPPED", detail: "no vision model is configured: a person reviews every live proof" });
      await server.client.ok(`mutation($id: ID!) { reviewTask(id: $id, decision: APPROVE, reason: "the facade is there") { status } }`, { id: postTask.id }, agent.liveKey);
      await waitForStatus(server.client, agent.liveKey, postTask.id, ["PAID"]);
      await server.app.escrow.idle();

      expect(await usdcBalance(live, payout)).to.equal(USDC(20));
      expect(await usdcBalance(live, owned.treasury)).to.equal(treasuryBefore + USDC(2));
      expect(await usdcBalance(live, live.escrow.address)).to.equal(0n);
      const { viewerAgent } = await server.client.ok(`{ viewerAgent { balance { units } } }`, {}, agent.liveKey);
      expect(viewerAgent.balance.units).to.equal(String(USDC(478)));
    });

    it("caps what a new account commits per task and per day, naming the cap (LIMIT_EXCEEDED), and posts nothing over it", async () => {
      const agent = await liveAgent("capped", USDC(1_000));
      const overTask = await server.client.fails(POST, { input: taskInput({ rewardUsd: 95 }) }, agent.liveKey);
      expect(overTask.extensions).to.include({ code: "LIMIT_EXCEEDED", field: "rewardUsd" });
      expect(overTask.message).to.match(/104\.50 USDC .* per-task spend cap of 100\.00 USDC for accounts younger than 7 days/);

      for (let i = 0; i < 4; i++) await server.client.ok(POST, { input: taskInput({ rewardUsd: 50 }) }, agent.liveKey);
      const overDay = await server.client.fails(POST, { input: taskInput({ rewardUsd: 50 }) }, agent.liveKey);
      expect(overDay.extensions).to.include({ code: "LIMIT_EXCEEDED", field: "rewardUsd" });
      expect(overDay.message).to.match(/220\.00 USDC was committed in the last 24 hours: over the daily spend cap of 250\.00 USDC/);
      const { tasks, viewerAgent } = await server.client.ok(TASKS, {}, agent.liveKey);
      expect(tasks.totalCount).to.equal(4);
      expect(viewerAgent.balance.units).to.equal(String(USDC(780)));
      const testMode = await server.client.ok(POST, { input: taskInput({ rewardUsd: 95 }) }, agent.testKey);
      expect(testMode.postTask.mode, "test money has no caps").to.equal("TEST");
    });

    it("a live balance that does not cover reward + fee is INSUFFICIENT_FUNDS and posts nothing", async () => {
      const agent = await liveAgent("short", USDC(10));
      const refused = await server.client.fails(POST, { input: taskInput({ rewardUsd: 10 }) }, agent.liveKey);
      expect(refused.extensions?.code).to.equal("INSUFFICIENT_FUNDS");
      const { tasks, viewerAgent } = await server.client.ok(TASKS, {}, agent.liveKey);
      expect(tasks.totalCount).to.equal(0);
      expect(viewerAgent.balance.units).to.equal(String(USDC(10)));
    });
  });
}
