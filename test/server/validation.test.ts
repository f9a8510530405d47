import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";

const COUNT_ROWS = `{ tasks { totalCount } viewerAgent { balance { units } } }`;

for (const db of testDatabases()) {
  describe(`postTask input validation (${db.name})`, () => {
    let server: TestServer;
    let apiKey: string;

    before(async () => {
      server = await startServer(db);
      ({ apiKey } = await registerAgent(server.client));
    });
    after(() => server.stop());

    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ["a missing title", { title: undefined }, "title", /required|null/i],
      ["an empty title", { title: "   " }, "title", /must not be empty/],
      ["a 1 MB title", { title: "x".repeat(1_048_576) }, "title", /at most 200 characters/],
      ["a zero reward", { rewardUsd: 0 }, "rewardUsd", /greater than 0/],
      ["a negative reward", { rewardUsd: -5 }, "rewardUsd", /non-negative decimal/],
      ["a reward with 7 decimals", { rewardUsd: 1.1234567 }, "rewardUsd", /at most 6 decimal places/],
      ["a reward string with 7 decimals", { rewardUsd: "1.0000001" }, "rewardUsd", /at most 6 decimal places/],
      ["a reward that is not a number", { rewardUsd: "fifteen" }, "rewardUsd", /decimal amount/],
      ["a latitude above 90", { location: { lat: 90.5, lng: 0 } }, "location.lat", /between -90 and 90/],
      ["a latitude below -90", { location: { lat: -91, lng: 0 } }, "location.lat", /between -90 and 90/],
      ["a longitude beyond 180", { location: { lat: 0, lng: 181 } }, "location.lng", /between -180 and 180/],
      ["a deadline in the past", { deadline: "2026-02-07T18:00:00Z" }, "deadline", /in the future/],
      ["a deadline that is not a date", { deadline: "tomorrow" }, "deadline", /DateTimeISO|date/i],
      ["an unknown task type", { taskType: "TELEPORT" }, "taskType", /TaskType/],
      ["too many proof requirements", { proofRequirements: Array.from({ length: 21 }, (_, i) => `photo ${i}`) }, "proofRequirements", /at most 20/],
      ["a maxAttempts of 0", { maxAttempts: 0 }, "maxAttempts", /from 1 to 10/],
    ];

    for (const [name, override, field, rule] of cases) {
      it(`refuses ${name} with BAD_USER_INPUT naming ${field}, and writes nothing`, async () => {
        const before = await server.client.ok(COUNT_ROWS, {}, apiKey);
        const error = await server.client.fails(POST_TASK, { input: taskInput(override) }, apiKey);
        expect(error.extensions?.code).to.equal("BAD_USER_INPUT");
        expect(error.extensions?.field).to.equal(field);
        expect(error.message).to.match(rule);
        expect(await server.client.ok(COUNT_ROWS, {}, apiKey)).to.deep.equal(before);
      });
    }

    it("refuses a reward the balance cannot cover with INSUFFICIENT_FUNDS, and writes nothing", async () => {
      const before = await server.client.ok(COUNT_ROWS, {}, apiKey);
      const error = await server.client.fails(POST_TASK, { input: taskInput({ rewardUsd: 9_999 }) }, apiKey);
      expect(error.extensions?.code).to.equal("INSUFFICIENT_FUNDS");
      expect(error.message).to.match(/needs 10998\.90 USDC and 10000\.00 USDC is available/);
      expect(await server.client.ok(COUNT_ROWS, {}, apiKey)).to.deep.equal(before);
    });

    it("accepts a reward with six decimals and keeps every base unit", async () => {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ rewardUsd: "12.345678", testScenario: "MANUAL" }) }, apiKey);
      expect(postTask.reward).to.deep.equal({ units: "12345678", usd: "12.345678" });
      expect(postTask.fee.units).to.equal("1234567");
    });

    it("refuses a request with no key, and one with a revoked or malformed key", async () => {
      const none = await server.client.fails(POST_TASK, { input: taskInput() });
      expect(none.extensions?.code).to.equal("UNAUTHENTICATED");
      const malformed = await server.client.fails(POST_TASK, { input: taskInput() }, "sk_live_123");
      expect(malformed.extensions?.code).to.equal("UNAUTHENTICATED");
      const unknown = await server.client.fails(POST_TASK, { input: taskInput() }, `ho_test_${"A".repeat(43)}`);
      expect(unknown.extensions?.code).to.equal("UNAUTHENTICATED");
    });

    it("posts once per idempotency key, and refuses the key with another body", async () => {
      const input = taskInput({ idempotencyKey: "order-42", testScenario: "MANUAL" });
      const first = await server.client.ok(POST_TASK, { input }, apiKey);
      const again = await server.client.ok(POST_TASK, { input }, apiKey);
      expect(again.postTask.id).to.equal(first.postTask.id);
      const concurrent = await Promise.all(Array.from({ length: 10 }, () => server.client.ok(POST_TASK, { input: { ...input, idempotencyKey: "order-43" } }, apiKey)));
      expect(new Set(concurrent.map((r) => r.postTask.id)).size).to.equal(1);
      const other = await server.client.fails(POST_TASK, { input: { ...input, title: "Another title" } }, apiKey);
      expect(other.extensions?.code).to.equal("CONFLICT");
    });
  });
}
