import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { FakeVision } from "../support/fake-vision";
import { CATEGORIES, confusion, formatConfusion, runEvaluation, type Scored } from "../support/guardian-eval";

/** Proofs of each label here; the whole set (66) runs in `npm run bench -- guardian`. */
const PER_LABEL = 2;

/**
 * A representative part of the Guardian's evaluation set: proofs of every
 * label, generated, submitted through the real API and scored by the real
 * Guardian job (reuse looked up in the database), a vision model answering
 * through the local fake of the Messages API.
 */
for (const db of testDatabases()) {
  describe(`Guardian evaluation set, ${PER_LABEL} proofs per label (${db.name})`, function () {
    this.timeout(120_000);
    let fake: FakeVision;
    let server: TestServer;
    let results: Scored[];

    before(async () => {
      fake = await FakeVision.start();
      server = await startServer(db, { GUARDIAN_VISION_API_KEY: fake.apiKey, GUARDIAN_VISION_URL: fake.url, GUARDIAN_VISION_TIMEOUT_MS: "5000" });
      const counts = Object.fromEntries(Object.keys(CATEGORIES).map((name) => [name, PER_LABEL]));
      results = await runEvaluation({ graphql: `${server.url}/graphql`, fake, concurrency: 6 }, counts);
    });
    after(async () => {
      await server?.stop();
      await fake?.stop();
    });

    it("approves no dishonest proof automatically", () => {
      expect(confusion(results).falseAutoApprovals.map((r) => `${r.category} (score ${r.score}: ${r.flags.join(", ")})`)).to.deep.equal([]);
    });

    for (const [name, category] of Object.entries(CATEGORIES)) {
      it(`${category.label}: ${category.expected}`, () => {
        const mine = results.filter((r) => r.category === name);
        const described = (r: Scored) => `${r.outcome} (score ${r.score}: ${r.flags.join(", ") || "no warnings"})`;
        expect(mine.map((r) => r.outcome), `${mine.map(described).join("; ")}\n${formatConfusion(results)}`).to.deep.equal(Array(PER_LABEL).fill(category.expected));
      });
    }
  });
}
