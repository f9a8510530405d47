import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { freshPhoto } from "../support/photos";
import { EscrowState } from "../../server/chain/contracts";
import type { Chain } from "../../server/chain/chains";
import { MOCK_OPERATOR_PAYOUT } from "../../server/testmode/mock-operator";
import { RestClient } from "../support/rest-client";
import { SpendCaps } from "../../server/agents/spend-caps";
import { Agent } from "../../server/agents/agent.entity";
import { Mode } from "../../server/common/mode";
import { Task } from "../../server/tasks/task.entity";
import { LedgerEntry, LedgerKind } from "../../server/ledger/ledger-entry.entity";
import { Accounts } from "../../server/ledger/ledger.service";
import { expectBooksMatchChain, freshAddress, operatorPaidTo, testChain, usdcBalance, waitForEscrow } from "./support/chain";

const ESCROW = `escrow { status chainTaskId amount { units } reclaimableAt }`;
const TASK = `query($id: ID!) { task(id: $id) { id status title description proofRequirements deadline reward { units } fee { units } total { units } withdrawableWithoutPenalty
  events { kind fromStatus toStatus actorType reason } tips { amount { units } status txHash note } ${ESCROW} } }`;
const CHANGE = `mutation($id: ID!, $input: ChangeTaskInput!) { changeTask(id: $id, input: $input) { id status title description proofRequirements deadline reward { units } fee { units } total { units } events { kind fromStatus toStatus actorType reason } } }`;
const TIP = `mutation($id: ID!, $amount: UsdAmount!, $note: String) { tipTask(id: $id, amountUsd: $amount, note: $note) { status tips { amount { units } status note } events { kind reason } } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;
const RELEASE = `mutation($id: ID!) { releaseTask(id: $id, reason: "cannot make it") { status events { fromStatus toStatus actorType reason } } }`;
const SUBMIT = `mutation($id: ID!, $input: SubmitProofInput!) { submitProof(taskId: $id, input: $input) { status } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
const BALANCE = `{ viewerAgent { balance { units } } }`;
const RECORD = `{ viewerOperator { tasksReleased earnings { units } record { cancellationsAfterAccepting } } }`;
const OPERATOR_VIEW = `query($id: ID!) { task(id: $id) { withdrawableWithoutPenalty events { kind reason } } }`;
const proof = () => ({ photos: [freshPhoto(), freshPhoto()].map((photo) => ({ dataBase64: photo.toString("base64"), contentType: "image/png" })), notes: "Facade and signage" });

const DAY = 86_400_000;

for (const db of testDatabases()) {
  describe(`changing a task and tipping its operator (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db);
      chain = testChain(server.app);
      agent = await registerAgent(server.client, "changer");
      await server.app.escrow.idle();
    });
    afterEach(() => expectBooksMatchChain(server.app));
    after(() => server.stop());

    const post = async (overrides: Record<string, unknown> = {}) =>
      (await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", rewardUsd: 10, ...overrides }) }, agent.apiKey)).postTask.id as string;
    const balance = async () => BigInt((await server.client.ok(BALANCE, {}, agent.apiKey)).viewerAgent.balance.units);
    const task = async (id: string, apiKey = agent.apiKey) => (await server.client.ok(TASK, { id }, apiKey)).task;

    /** Polls until the task's escrow, as recorded from the chain, holds `units`. */
    async function escrowHolds(id: string, units: bigint): Promise<Record<string, any>> {
      const until = Date.now() + 10_000;
      for (;;) {
        const current = await task(id);
        if (BigInt(current.escrow.amount.units) === units) return current;
        expect(Date.now(), `the escrow of ${id} still holds ${current.escrow.amount.units}`).to.be.below(until);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it("edits the title, description and proof requirements while POSTED, each change a TASK_CHANGED event; once accepted only the reward and deadline", async () => {
      const id = await post();
      const { changeTask } = await server.client.ok(CHANGE, { id, input: { title: "Photo of the corner store", description: "Two photos of the facade, one of the opening hours.", proofRequirements: ["Facade", "Opening hours sign"], reason: "wrong store" } }, agent.apiKey);
      expect(changeTask).to.deep.include({ status: "POSTED", title: "Photo of the corner store", proofRequirements: ["Facade", "Opening hours sign"] });
      expect(changeTask.events.at(-1)).to.deep.equal({ kind: "TASK_CHANGED", fromStatus: "POSTED", toStatus: "POSTED", actorType: "AGENT", reason: "changed by the agent: title; description; proof requirements (wrong store)" });

      const operator = await operatorPaidTo(server.client, freshAddress(), "editor-op");
      await server.client.ok(ACCEPT, { id }, operator.testApiKey);
      const late = await server.client.fails(CHANGE, { id, input: { title: "Another title" } }, agent.apiKey);
      expect(late.extensions).to.include({ code: "CONFLICT" });
      expect(late.message).to.match(/only before the task is accepted; this task is ACCEPTED/);
      await server.client.ok(CANCEL, { id }, agent.apiKey);
    });

    it("refuses a change that lowers, shortens, changes nothing or breaks a rule, naming the field, and leaves the task and balance as they were", async () => {
      const id = await post();
      const before = await balance();
      const cases: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ rewardUsd: "9" }, "rewardUsd", /can only be raised: it must be more than the current 10.00 USD/],
        [{ deadline: new Date(Date.now() + 3_600_000).toISOString() }, "deadline", /can only be extended/],
        [{ deadline: new Date(Date.now() + 400 * DAY).toISOString() }, "deadline", /must be within \d+ days/],
        [{ title: "   " }, "title", /must not be empty|is required/],
        [{ rewardUsd: "1000000000" }, "rewardUsd", /must be at most/],
        [{}, "input", /name at least one of/],
        [{ rewardUsd: "10" }, "input", /changes nothing/],
      ];
      for (const [input, field, message] of cases) {
        const refused = await server.client.fails(CHANGE, { id, input }, agent.apiKey);
        expect(refused.extensions, JSON.stringify(input)).to.include({ code: "BAD_USER_INPUT", field });
        expect(refused.message, JSON.stringify(input)).to.match(message);
      }
      const other = await registerAgent(server.client, "stranger");
      expect((await server.client.fails(CHANGE, { id, input: { rewardUsd: "20" } }, other.apiKey)).extensions).to.include({ code: "NOT_FOUND" });
      const unchanged = await task(id);
      expect(unchanged.reward.units).to.equal("10000000");
      expect(unchanged.events.filter((e: any) => e.kind === "TASK_CHANGED")).to.have.length(0);
      expect(await balance()).to.equal(before);
      await server.client.ok(CANCEL, { id }, agent.apiKey);
    });

    it("raising the reward and extending the deadline of an accepted task amends its escrow on chain, and the operator is paid the raised reward", async () => {
      const payout = freshAddress();
      const operator = await operatorPaidTo(server.client, payout, "raised-op");
      const id = await post();
      await server.client.ok(ACCEPT, { id }, operator.testApiKey);
      const posted = await task(id);
      expect(posted.escrow.amount.units).to.equal("11000000");
      const escrowBefore = await usdcBalance(chain, chain.escrow.address);
      const balanceBefore = await balance();

      const deadline = new Date(new Date(posted.deadline).getTime() + DAY);
      const { changeTask } = await server.client.ok(CHANGE, { id, input: { rewardUsd: "15", deadline: deadline.toISOString() } }, agent.apiKey);
      expect(changeTask).to.deep.include({ status: "ACCEPTED", reward: { units: "15000000" }, fee: { units: "1500000" }, total: { units: "16500000" }, deadline: deadline.toISOString() });
      expect(changeTask.events.at(-1).reason).to.equal(`changed by the agent: reward 10.00 → 15.00 USD; deadline ${posted.deadline} → ${deadline.toISOString()}`);
      expect(await balance(), "the raise and its fee left the balance at once").to.equal(balanceBefore - 5_500_000n);

      const amended = await escrowHolds(id, 16_500_000n);
      expect(new Date(amended.escrow.reclaimableAt).getTime() - new Date(posted.escrow.reclaimableAt).getTime(), "reclaimable a day later").to.equal(DAY);
      expect(await usdcBalance(chain, chain.escrow.address)).to.equal(escrowBefore + 5_500_000n);
      const terms = { funder: chain.funder.address, amount: 16_500_000n, fee: 1_500_000n, deadline: BigInt(Math.ceil(deadline.getTime() / 1000)), gracePeriod: BigInt(server.app.config.chain.gracePeriodSeconds) };
      expect(await chain.escrow.verifyTerms(chain.rpc, amended.escrow.chainTaskId, terms), "the chain holds the new terms").to.equal(true);

      const seen = (await server.client.ok(OPERATOR_VIEW, { id }, operator.testApiKey)).task;
      expect(seen.withdrawableWithoutPenalty, "the operator holding it may now give it up without penalty").to.equal(true);
      expect(seen.events.at(-1)).to.deep.include({ kind: "TASK_CHANGED" });

      await server.client.ok(SUBMIT, { id, input: proof() }, operator.testApiKey);
      const paid = await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      expect(paid.reward.units).to.equal("15000000");
      await waitForEscrow(server.client, agent.apiKey, id, ["RELEASED"]);
      expect(await usdcBalance(chain, payout), "the raised reward reached the operator's address").to.equal(15_000_000n);
      expect((await server.client.ok(RECORD, {}, operator.testApiKey)).viewerOperator.earnings.units).to.equal("15000000");
    });

    it("cancelling a task after a raise refunds the agent everything, on chain too", async () => {
      const before = await balance();
      const id = await post();
      await server.client.ok(CHANGE, { id, input: { rewardUsd: "12" } }, agent.apiKey);
      expect(await balance()).to.equal(before - 13_200_000n);
      await server.client.ok(CANCEL, { id }, agent.apiKey);
      expect(await balance(), "the raise came back with the rest").to.equal(before);
      const refunded = await waitForEscrow(server.client, agent.apiKey, id, ["REFUNDED", "UNFUNDED"]);
      expect((await chain.escrow.escrowOf(chain.rpc, refunded.escrow.chainTaskId)).state).to.equal(EscrowState.Refunded);
    });

    it("an operator who gives a task up after a change is not penalised; without a change the release counts", async () => {
      const operator = await operatorPaidTo(server.client, freshAddress(), "withdrawing-op");
      const changed = await post();
      await server.client.ok(ACCEPT, { id: changed }, operator.testApiKey);
      expect((await server.client.ok(OPERATOR_VIEW, { id: changed }, operator.testApiKey)).task.withdrawableWithoutPenalty).to.equal(false);
      await server.client.ok(CHANGE, { id: changed, input: { deadline: new Date(Date.now() + 2 * DAY).toISOString() } }, agent.apiKey);
      const { releaseTask } = await server.client.ok(RELEASE, { id: changed }, operator.testApiKey);
      expect(releaseTask.status).to.equal("POSTED");
      expect(releaseTask.events.at(-1)).to.deep.equal({ fromStatus: "ACCEPTED", toStatus: "POSTED", actorType: "OPERATOR", reason: "withdrawn without penalty after the task changed: cannot make it" });
      const free = (await server.client.ok(RECORD, {}, operator.testApiKey)).viewerOperator;
      expect(free.tasksReleased).to.equal(0);
      expect(free.record.cancellationsAfterAccepting, "the record shown to agents does not count it either").to.equal(0);

      // A change made before this acceptance does not free the next holder.
      await server.client.ok(ACCEPT, { id: changed }, operator.testApiKey);
      const plain = (await server.client.ok(RELEASE, { id: changed }, operator.testApiKey)).releaseTask;
      expect(plain.events.at(-1).reason).to.equal("cannot make it");
      const counted = (await server.client.ok(RECORD, {}, operator.testApiKey)).viewerOperator;
      expect(counted.tasksReleased).to.equal(1);
      expect(counted.record.cancellationsAfterAccepting).to.equal(1);
      await server.client.ok(CANCEL, { id: changed }, agent.apiKey);
    });

    it("tips the operator of a PAID task on chain, from the agent's balance; refuses a task not paid and a bad amount", async () => {
      const open = await post();
      const early = await server.client.fails(TIP, { id: open, amount: "1" }, agent.apiKey);
      expect(early.extensions).to.include({ code: "CONFLICT" });
      expect(early.message).to.match(/only a PAID task can be tipped; this task is POSTED/);
      await server.client.ok(CANCEL, { id: open }, agent.apiKey);

      const id = (await server.client.ok(POST_TASK, { input: taskInput({ rewardUsd: 5 }) }, agent.apiKey)).postTask.id as string;
      await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      await waitForEscrow(server.client, agent.apiKey, id, ["RELEASED"]);
      for (const amount of ["0", "-1"]) {
        const refused = await server.client.fails(TIP, { id, amount }, agent.apiKey);
        expect(refused.extensions, amount).to.include({ code: "BAD_USER_INPUT" });
      }
      const operatorBefore = await usdcBalance(chain, MOCK_OPERATOR_PAYOUT);
      const before = await balance();
      const { tipTask } = await server.client.ok(TIP, { id, amount: "2.5", note: "Great photos" }, agent.apiKey);
      expect(tipTask.status).to.equal("PAID");
      expect(tipTask.tips).to.deep.equal([{ amount: { units: "2500000" }, status: "PENDING", note: "Great photos" }]);
      expect(tipTask.events.at(-1)).to.deep.equal({ kind: "TIPPED", reason: "tipped 2.50 USDC by the agent: Great photos" });
      expect(await balance()).to.equal(before - 2_500_000n);

      const until = Date.now() + 10_000;
      let tips: any[] = [];
      while (Date.now() < until) {
        tips = (await task(id)).tips;
        if (tips[0].status === "PAID") break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(tips[0].status).to.equal("PAID");
      expect(tips[0].txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(await usdcBalance(chain, MOCK_OPERATOR_PAYOUT), "the tip reached the operator's address").to.equal(operatorBefore + 2_500_000n);
      const paidEvents = (await task(id)).events.filter((event: { kind: string }) => event.kind === "TIP_PAID");
      expect(paidEvents, "the tip being mined is an event of the task, naming its transaction").to.deep.equal([
        { kind: "TIP_PAID", fromStatus: "PAID", toStatus: "PAID", actorType: "SYSTEM", reason: `the 2.50 USDC tip reached the operator on chain in transaction ${tips[0].txHash}` },
      ]);
    });

    it("REST: PATCH /tasks/{id} changes a task and POST /tasks/{id}/tip tips a paid one, in snake_case, errors naming the field", async () => {
      const rest = await RestClient.connect(server.url);
      const id = await post();
      const changed = await rest.request("PATCH", `/tasks/${id}`, { apiKey: agent.apiKey, json: { title: "Corner store photo", reward_usd: "11", reason: "busier than planned" } });
      expect(changed.status).to.equal(200);
      expect(changed.body).to.deep.include({ title: "Corner store photo", reward_usd: "11.00", total_usd: "12.10", withdrawable_without_penalty: false, tips: [] });
      expect(changed.body.events.at(-1)).to.deep.include({ kind: "TASK_CHANGED", reason: "changed by the agent: title; reward 10.00 → 11.00 USD (busier than planned)" });
      const lower = await rest.request("PATCH", `/tasks/${id}`, { apiKey: agent.apiKey, json: { reward_usd: "5" } });
      expect(lower.status).to.equal(400);
      expect(lower.body.error).to.include({ code: "BAD_USER_INPUT", field: "reward_usd" });
      const unknown = await rest.request("PATCH", `/tasks/${id}`, { apiKey: agent.apiKey, json: { max_attempts: 5 } });
      expect(unknown.status).to.equal(400);
      const early = await rest.request("POST", `/tasks/${id}/tip`, { apiKey: agent.apiKey, json: { amount_usd: "1" } });
      expect(early.status).to.equal(409);
      await escrowHolds(id, 12_100_000n);
      await rest.request("POST", `/tasks/${id}/cancel`, { apiKey: agent.apiKey });

      const paidId = (await server.client.ok(POST_TASK, { input: taskInput({ rewardUsd: 5 }) }, agent.apiKey)).postTask.id as string;
      await waitForStatus(server.client, agent.apiKey, paidId, ["PAID"]);
      await waitForEscrow(server.client, agent.apiKey, paidId, ["RELEASED"]);
      const tipped = await rest.request("POST", `/tasks/${paidId}/tip`, { apiKey: agent.apiKey, json: { amount_usd: "1.25", note: "thanks" } });
      expect(tipped.status).to.equal(200);
      expect(tipped.body.tips).to.have.length(1);
      expect(tipped.body.tips[0]).to.include({ amount_usd: "1.25", status: "PENDING", note: "thanks" });
    });

    it("live spend caps hold a raised task's new total and a tip to the per-task cap, and count live tips in the daily cap", async () => {
      const caps = new SpendCaps({ perTaskUnits: 20_000_000n, perDayUnits: 30_000_000n, newAccountDays: 0, newAccountPerTaskUnits: 0n, newAccountPerDayUnits: 0n });
      const em = server.app.orm.em.fork();
      const payer = await em.findOneOrFail(Agent, agent.id);
      const refusal = async (check: Promise<void>) => check.then(() => null, (err: Error & { code?: string }) => err);
      const perTask = await refusal(caps.checkExtra(em, payer, Mode.LIVE, 1n, 20_000_001n, "rewardUsd"));
      expect(perTask?.message).to.match(/comes to 20.000001 USDC, over the per-task spend cap of 20.00 USDC/);
      expect(await refusal(caps.checkExtra(em, payer, Mode.TEST, 1n, 20_000_001n, "rewardUsd")), "test money has no caps").to.equal(null);

      const id = await post();
      // A live tip as the ledger books it (TaskChangeService.tip): the agent's balance to the operator's earnings.
      const tip = new LedgerEntry(Mode.LIVE, LedgerKind.TIP, Accounts.agent(agent.id), Accounts.operator(agent.id), 25_000_000n, await em.findOneOrFail(Task, id));
      await em.persist(tip).flush();
      expect(await refusal(caps.checkExtra(em, payer, Mode.LIVE, 5_000_000n, 5_000_000n, "amountUsd")), "25 tipped + 5 fits 30").to.equal(null);
      const daily = await refusal(caps.checkExtra(em, payer, Mode.LIVE, 5_000_001n, 5_000_001n, "amountUsd"));
      expect(daily?.message).to.match(/25.00 USDC was committed in the last 24 hours: over the daily spend cap of 30.00 USDC/);
      await em.remove(tip).flush();
      await server.client.ok(CANCEL, { id }, agent.apiKey);
    });

    // Last: it moves the chain's clock two days on.
    it("an amendment the chain can no longer take puts the task back on its escrow's terms and returns the raise; the task still settles", async () => {
      const operator = await operatorPaidTo(server.client, freshAddress(), "undone-op");
      const id = await post({ deadline: new Date(Date.now() + 2 * 3_600_000).toISOString() });
      await server.client.ok(ACCEPT, { id }, operator.testApiKey);
      const before = await balance();
      await server.app.escrow.sender.stop();
      try {
        await server.client.ok(CHANGE, { id, input: { rewardUsd: "15", deadline: new Date(Date.now() + DAY).toISOString() } }, agent.apiKey);
        expect(await balance()).to.equal(before - 5_500_000n);
        // The new deadline passes on chain before the amendment is sent.
        await chain.rpc.request("evm_increaseTime", [2 * 86_400]);
        await chain.rpc.request("evm_mine", []);
      } finally {
        await server.app.escrow.sender.start();
      }
      const until = Date.now() + 10_000;
      let current = await task(id);
      while (current.reward.units !== "10000000") {
        expect(Date.now(), "the change is undone").to.be.below(until);
        await new Promise((resolve) => setTimeout(resolve, 20));
        current = await task(id);
      }
      expect(current).to.deep.include({ status: "ACCEPTED", total: { units: "11000000" } });
      expect(current.escrow.amount.units, "the escrow never changed").to.equal("11000000");
      expect(current.events.at(-1)).to.deep.include({ kind: "TASK_CHANGED", actorType: "SYSTEM" });
      expect(current.events.at(-1).reason).to.match(/^the change could not be made on chain \(the new deadline had passed on chain before the amendment could be sent\)/);
      expect(await balance(), "the raise is back").to.equal(before);
      await server.client.ok(CANCEL, { id }, agent.apiKey);
      const refunded = await waitForEscrow(server.client, agent.apiKey, id, ["REFUNDED"]);
      expect((await chain.escrow.escrowOf(chain.rpc, refunded.escrow.chainTaskId)).state).to.equal(EscrowState.Refunded);
      expect(await balance()).to.equal(before + 11_000_000n);
    });
  });
}
