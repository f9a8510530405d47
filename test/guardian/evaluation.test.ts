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
      // Jobs start when their submission commits (the worker is woken), so a slow poll only stops the idle queries that compete with the proofs.
      server = await startServer(db, { GUARDIAN_VISION_API_KEY: fake.apiKey, GUARDIAN_VISION_URL: fake.url, GUARDIAN_VISION_TIMEOUT_MS: "5000", WORKER_POLL_MS: "1000" });
      const counts = Object.fromEntries(Object.keys(CATEGORIES).map((name) => [name, PER_LABEL]));
      // Camera photos at 640×480: what the checks weigh does not depend on their size (the screenshots keep a screen's), and each costs a quarter to draw, store and hash.
      results = await runEvaluation({ graphql: `${server.url}/graphql`, fake, concurrency: 6, photoSize: { width: 640, height: 480 } }, counts);
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
