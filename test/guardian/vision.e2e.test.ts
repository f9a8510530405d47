import { expect } from "chai";
import { createLogger } from "../../server/common/logger";
import { Job, JobStatus } from "../../server/jobs/job.entity";
import { ProofJobs } from "../../server/proofs/proof.service";
import { testDatabases } from "../support/databases";
import { FakeVision } from "../support/fake-vision";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { LogCapture } from "../live/support/live";
import { startServer, type TestServer } from "../support/server";

const VERIFICATION = `query($id: ID!) { task(id: $id) { status verification { score verdict scorer reasons } } }`;

for (const db of testDatabases()) {
  describe(`Guardian with a vision model, end to end in test mode (${db.name})`, () => {
    let fake: FakeVision;
    let server: TestServer;
    let agent: { apiKey: string };
    const logs = new LogCapture();
    /** Failures left to script per task title. */
    const failures = new Map<string, number>();

    before(async () => {
      fake = await FakeVision.start();
      // The fake model scores by the task's title, "[score N]", read from the data block it was sent.
      fake.reply = (request) => {
        const title: string = request.data.task.title;
        const left = failures.get(title) ?? 0;
        if (left > 0) {
          failures.set(title, left - 1);
          return { error: "overloaded" };
        }
        const score = Number(/\[score (\d+)\]/.exec(title)?.[1] ?? 95);
        return { score, met: score >= 90 };
      };
      const env = { GUARDIAN_VISION_API_KEY: fake.apiKey, GUARDIAN_VISION_URL: fake.url, GUARDIAN_VISION_TIMEOUT_MS: "5000", GUARDIAN_VISION_MAX_RETRIES: "0", LOG_LEVEL: "trace" };
      server = await startServer(db, env, createLogger("trace", logs));
      agent = await registerAgent(server.client);
    });
    after(async () => {
      await server?.stop();
      await fake?.stop();
    });

    async function post(title: string): Promise<string> {
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ title }) }, agent.apiKey);
      return postTask.id;
    }

    async function verification(id: string): Promise<{ score: number; verdict: string; scorer: string; reasons: string[] }> {
      return (await server.client.ok(VERIFICATION, { id }, agent.apiKey)).task.verification;
    }

    /**
     * Skips the job queue's retry backoff (seconds) by making waiting Guardian
     * jobs due now, until `done`; `maxAttempts` shortens their road to the final attempt.
     */
    async function withoutBackoff<T>(done: Promise<T>, maxAttempts?: number): Promise<T> {
      let finished = false;
      const nudge = (async () => {
        while (!finished) {
          const now = Date.now();
          await server.app.orm.em.fork().nativeUpdate(Job, { kind: ProofJobs.score, status: JobStatus.PENDING, runAt: { $gt: now } }, { runAt: now, ...(maxAttempts && { maxAttempts }) });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      try {
        return await done;
      } finally {
        finished = true;
        await nudge;
      }
    }

    it("good proof the model scores 95 is verified (and paid), scored offline and by the model", async () => {
      const id = await post("Storefront [score 95]");
      await waitForStatus(server.client, agent.apiKey, id, ["PAID"]);
      const result = await verification(id);
      expect(result).to.include({ score: 95, verdict: "APPROVE", scorer: "offline-v2+claude-sonnet-4-5" });
      const request = fake.requests.find((r) => r.data.task.title === "Storefront [score 95]")!;
      expect(request.images.map((image) => image.mediaType), "the mock operator's two photos, as JPEG image blocks").to.deep.equal(["image/jpeg", "image/jpeg"]);
      expect(request.data.task.proof_requirements).to.deep.equal(["Full facade photo", "Close-up of signage"]);
    });

    it("proof the model scores 70 waits in MANUAL_REVIEW, with the model's reasons on the verification", async () => {
      const id = await post("Storefront [score 70]");
      await waitForStatus(server.client, agent.apiKey, id, ["MANUAL_REVIEW"]);
      const result = await verification(id);
      expect(result).to.include({ score: 70, verdict: "REVIEW", scorer: "offline-v2+claude-sonnet-4-5" });
      expect(result.reasons).to.include("vision: not met: Close-up of signage (not visible in the 2 photo(s))");
    });

    it("an overloaded model (529 twice) is retried by the durable job, and the proof is still scored", async () => {
      const title = "Storefront [score 96] flaky";
      failures.set(title, 2);
      const id = await post(title);
      await withoutBackoff(waitForStatus(server.client, agent.apiKey, id, ["VERIFIED", "PAID"]));
      expect(fake.requests.filter((r) => r.data.task.title === title)).to.have.length(3);
      expect(await verification(id)).to.include({ score: 96, verdict: "APPROVE" });
    });

    it("a model still overloaded on the job's final attempt: the proof goes to MANUAL_REVIEW, not lost and not approved", async () => {
      const title = "Storefront [score 97] always overloaded";
      failures.set(title, 100);
      const id = await post(title);
      await withoutBackoff(waitForStatus(server.client, agent.apiKey, id, ["MANUAL_REVIEW"]), 3);
      expect(fake.requests.filter((r) => r.data.task.title === title)).to.have.length(3);
      const result = await verification(id);
      expect(result).to.include({ verdict: "REVIEW", score: 89, scorer: "offline-v2" });
      expect(result.reasons.at(-1)).to.match(/^the vision check was unavailable \(the vision API refused the request \(529 overloaded_error: Overloaded/);
    });

    it("a refused key (401) sends the proof to MANUAL_REVIEW at once, saying the vision check was unavailable", async () => {
      fake.revoked = true;
      try {
        const id = await post("Storefront [score 99] while revoked");
        await waitForStatus(server.client, agent.apiKey, id, ["MANUAL_REVIEW"]);
        const result = await verification(id);
        expect(result).to.include({ verdict: "REVIEW", scorer: "offline-v2" });
        expect(result.reasons.at(-1)).to.match(/^the vision check was unavailable \(the vision API refused the request \(401 authentication_error: invalid x-api-key/);
      } finally {
        fake.revoked = false;
      }
    });

    it("never writes the API key to the logs", () => {
      expect(logs.lines.length).to.be.greaterThan(10);
      expect(logs.includes("overloaded_error"), "the retried failures were logged").to.equal(true);
      expect(logs.includes(fake.apiKey)).to.equal(false);
    });
  });
}
