import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { TestClock } from "../support/clock";
import { taskInput } from "../support/fixtures";
import { Mode } from "../../server/common/mode";
import { Task } from "../../server/tasks/task.entity";
import { LedgerKind } from "../../server/ledger/ledger-entry.entity";
import { Accounts } from "../../server/ledger/ledger.service";
import { agentWithLiveDeposit, expectBooksMatchChain, ownedChain, USDC, type OwnedChain } from "./support/chain";

const POST = `mutation($input: PostTaskInput!) { postTask(input: $input) { id status } }`;
const CHANGE = `mutation($id: ID!, $input: ChangeTaskInput!) { changeTask(id: $id, input: $input) { reward { units } } }`;
const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
const HOUR = 3_600_000;

for (const db of testDatabases()) {
  describe(`the daily spend cap counts money when it is committed (${db.name})`, () => {
    let owned: OwnedChain;
    let server: TestServer;
    const clock = new TestClock();

    before(async () => {
      owned = await ownedChain();
      server = await startServer(
        db,
        {
          ...owned.env("CHAIN_"),
          CHAIN_POLL_MS: "20",
          NEW_ACCOUNT_DAYS: "0",
          SPEND_CAP_TASK_USD: "100",
          SPEND_CAP_DAY_USD: "150",
          NEW_ACCOUNT_SPEND_CAP_TASK_USD: "100",
          NEW_ACCOUNT_SPEND_CAP_DAY_USD: "150",
        },
        undefined,
        { clock },
      );
    });
    after(async () => {
      await server.stop();
      await owned.stop();
    });

    it("a raise on a task posted more than 24 hours ago is spending today, as is a tip; postings leave the window after 24 hours", async () => {
      const agent = await agentWithLiveDeposit(server, owned, "raiser", USDC(1_000));
      const deadline = new Date(clock.now() + 72 * HOUR).toISOString();
      const post = async (rewardUsd: number) => server.client.ok(POST, { input: taskInput({ rewardUsd, deadline }) }, agent.liveKey);
      const first = (await post(40)).postTask.id as string;
      const second = (await post(50)).postTask.id as string;
      const full = await server.client.fails(POST, { input: taskInput({ rewardUsd: 47, deadline }) }, agent.liveKey);
      expect(full.message, "44 + 55 committed, 51.70 more is over 150").to.match(/51\.70 USDC and 99\.00 USDC was committed in the last 24 hours: over the daily spend cap of 150\.00 USDC/);

      clock.advance(25 * HOUR);
      await server.client.ok(CHANGE, { id: first, input: { rewardUsd: "80" } }, agent.liveKey);
      await server.client.ok(CHANGE, { id: second, input: { rewardUsd: "90" } }, agent.liveKey);
      // The two raises (44 and 44, fees included) are today's spending, though both tasks were posted yesterday.
      const overRaised = await server.client.fails(POST, { input: taskInput({ rewardUsd: 60, deadline }) }, agent.liveKey);
      expect(overRaised.extensions).to.include({ code: "LIMIT_EXCEEDED", field: "rewardUsd" });
      expect(overRaised.message).to.match(/66\.00 USDC and 88\.00 USDC was committed in the last 24 hours: over the daily spend cap of 150\.00 USDC/);

      // A tip is spending too: booked from the agent's balance when it is given.
      const em = server.app.orm.em.fork();
      const task = await em.findOneOrFail(Task, first);
      server.app.services.ledger.post(em, Mode.LIVE, LedgerKind.TIP, Accounts.agent(task.agent.id), Accounts.operator("00000000-0000-0000-0000-000000000000"), USDC(10), task);
      await em.flush();
      const afterTip = await server.client.fails(POST, { input: taskInput({ rewardUsd: 50, deadline }) }, agent.liveKey);
      expect(afterTip.message).to.match(/55\.00 USDC and 98\.00 USDC was committed in the last 24 hours/);
      await em.nativeDelete("LedgerEntry", { kind: LedgerKind.TIP, task: first });

      // A refund does not make room again: the cap bounds what is committed in a day.
      await server.client.ok(CANCEL, { id: second }, agent.liveKey);
      const afterRefund = await server.client.fails(POST, { input: taskInput({ rewardUsd: 60, deadline }) }, agent.liveKey);
      expect(afterRefund.message).to.match(/88\.00 USDC was committed in the last 24 hours/);

      clock.advance(24 * HOUR);
      await post(60);
      await server.client.ok(CANCEL, { id: first }, agent.liveKey);
      await expectBooksMatchChain(server.app);
    });
  });
}
