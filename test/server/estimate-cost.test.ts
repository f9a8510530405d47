import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";

const ESTIMATE = `query($reward: UsdAmount!) { estimateCost(rewardUsd: $reward) { reward { units usd } fee { units usd } total { units usd } feeBps } }`;

for (const db of testDatabases()) {
  describe(`estimateCost (${db.name})`, () => {
    let server: TestServer;
    let agent: { apiKey: string; id: string };

    before(async () => {
      server = await startServer(db, { PLATFORM_FEE_BPS: "750" });
      agent = await registerAgent(server.client);
    });
    after(() => server.stop());

    it("quotes exactly what postTask then charges, and reserves nothing", async () => {
      const { viewerAgent: before } = await server.client.ok(`{ viewerAgent { balance { units } } }`, {}, agent.apiKey);
      const { estimateCost } = await server.client.ok(ESTIMATE, { reward: "12.34" }, agent.apiKey);
      expect(estimateCost).to.deep.equal({
        reward: { units: "12340000", usd: "12.34" },
        fee: { units: "925500", usd: "0.9255" },
        total: { units: "13265500", usd: "13.2655" },
        feeBps: 750,
      });
      const { viewerAgent: after } = await server.client.ok(`{ viewerAgent { balance { units } } }`, {}, agent.apiKey);
      expect(after.balance.units).to.equal(before.balance.units);

      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ rewardUsd: "12.34", testScenario: "MANUAL" }) }, agent.apiKey);
      expect({ reward: postTask.reward, fee: postTask.fee, total: postTask.total }).to.deep.equal({
        reward: estimateCost.reward,
        fee: estimateCost.fee,
        total: estimateCost.total,
      });
    });

    it("refuses the rewards postTask refuses, naming rewardUsd", async () => {
      for (const reward of ["0", "10000.01", "1.1234567", "-3"]) {
        const error = await server.client.fails(ESTIMATE, { reward }, agent.apiKey);
        expect(error.extensions?.code, reward).to.equal("BAD_USER_INPUT");
        expect(error.extensions?.field, reward).to.equal("rewardUsd");
      }
    });

    it("needs an agent's key", async () => {
      const error = await server.client.fails(ESTIMATE, { reward: 15 });
      expect(error.extensions?.code).to.equal("UNAUTHENTICATED");
    });
  });
}
