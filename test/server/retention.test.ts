import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { startServer, type TestServer } from "../support/server";
import { testDatabases } from "../support/databases";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { Receiver } from "../live/support/receiver";
import { CREATE_ENDPOINT } from "../live/support/webhook-ops";
import { eventually } from "../live/support/live";
import { createLogger } from "../../server/common/logger";
import { finishedJobs } from "../../server/jobs/job.queue";
import { RetentionWorker } from "../../server/jobs/retention";
import { Job, JobStatus } from "../../server/jobs/job.entity";
import { deliveredWebhooks } from "../../server/webhooks/webhook.retention";
import { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus } from "../../server/webhooks/webhook-delivery.entity";
import { expiredIdempotencyRecords } from "../../server/rest/idempotency.retention";
import { IdempotencyRecord } from "../../server/rest/idempotency.entity";
import { endedSessions } from "../../server/sessions/session.retention";
import { mootExpiryJobs, mootLapseJobs } from "../../server/tasks/task.retention";
import { BrowserSession } from "../../server/sessions/browser-session.entity";
import { ApiKey } from "../../server/agents/api-key.entity";
import { LedgerEntry } from "../../server/ledger/ledger-entry.entity";
import { TaskEvent } from "../../server/tasks/task-event.entity";
import { ChainEvent, ChainTx } from "../../server/escrow/chain-tx.entity";
import { Escrow } from "../../server/escrow/escrow.entity";
import { Verification } from "../../server/guardian/verification.entity";
import type { Em } from "../../server/db/orm";

const HOUR_MS = 3_600_000;

for (const db of testDatabases()) {
  describe(`retention (${db.name})`, () => {
    let server: TestServer;
    const delivered = new Receiver(() => 200);
    const refusing = new Receiver(() => 500);

    before(async () => {
      // The server's own retention pass runs once at start (nothing is old then) and not again during the test.
      server = await startServer(db, { RETENTION_INTERVAL_MS: "86400000", WEBHOOK_POLL_MS: "20", WEBHOOK_RETRY_BASE_MS: "600000", WEBHOOK_RETRY_MAX_MS: "600000" });
      await delivered.start();
      await refusing.start();
    });
    after(async () => {
      await server?.stop();
      await delivered.close();
      await refusing.close();
    });

    /** The app's pruners with every age set to `ageMs`, in batches of two rows (so a pass takes several batches). */
    function retention(ageMs: number): RetentionWorker {
      const pruners = [finishedJobs(ageMs), mootExpiryJobs(), mootLapseJobs(), deliveredWebhooks(ageMs), expiredIdempotencyRecords(ageMs), endedSessions(ageMs, server.config.sessions.idleMs)];
      return new RetentionWorker(server.app.orm, pruners, { intervalMs: HOUR_MS, batch: 2 }, createLogger("silent"));
    }

    async function kept(em: Em) {
      return {
        ledger: await em.count(LedgerEntry, {}),
        taskEvents: await em.count(TaskEvent, {}),
        chainTxs: await em.count(ChainTx, {}),
        chainEvents: await em.count(ChainEvent, {}),
        escrows: await em.count(Escrow, {}),
        verifications: await em.count(Verification, {}),
      };
    }

    it("prunes finished jobs, delivered webhooks, expired idempotency records and ended sessions once past their age, and keeps what is recent, unfinished or financial", async () => {
      const agent = await registerAgent(server.client);
      for (const receiver of [delivered, refusing]) await server.client.ok(CREATE_ENDPOINT, { input: { url: receiver.url } }, agent.apiKey);
      for (let i = 0; i < 2; i++) {
        const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
        await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"], 60_000);
      }
      // A task nobody takes: its expiry job is unfinished work.
      const { postTask: open } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      const em = server.app.orm.em.fork();
      await eventually(async () => (await em.fork().count(WebhookDelivery, { status: WebhookDeliveryStatus.DELIVERED })) > 0 && (await em.fork().count(WebhookDelivery, { attempts: 0 })) === 0, "every delivery tried");
      await server.app.escrow.idle();

      const now = Date.now();
      const key = await em.findOneOrFail(ApiKey, { agent: agent.id });
      const hash = () => randomBytes(32).toString("hex");
      em.persist([
        new IdempotencyRecord("retention-test", hash(), hash(), now, now - 1),
        new IdempotencyRecord("retention-test", hash(), hash(), now, now + HOUR_MS),
        new BrowserSession(hash(), { key }, now - 1),
        new BrowserSession(hash(), { key }, now + HOUR_MS),
      ]);
      await em.flush();
      const before = await kept(em.fork());
      const doneJobs = await em.fork().count(Job, { status: JobStatus.DONE });
      const pendingJobs = await em.fork().count(Job, { status: JobStatus.PENDING });
      const deliveredRows = await em.fork().count(WebhookDelivery, { status: WebhookDeliveryStatus.DELIVERED });
      const pendingRows = await em.fork().count(WebhookDelivery, { status: WebhookDeliveryStatus.PENDING });
      expect(doneJobs, "the tasks ran jobs").to.be.greaterThan(2);
      expect(pendingJobs, "every task's expiry job waits for its deadline, and each paid task's lapse job for the end of its accept window").to.equal(5);
      expect(deliveredRows, "deliveries to the answering endpoint").to.be.greaterThan(2);
      expect(pendingRows, "deliveries to the refusing endpoint wait for a retry").to.be.greaterThan(2);

      // An hour's age: everything above is recent, nothing goes.
      // The paid tasks' expiry and lapse jobs are moot at any age.
      expect(await retention(HOUR_MS).pruneOnce()).to.deep.equal({ jobs: 0, "jobs (expiry of ended tasks)": 2, "jobs (lapses of ended holds)": 2, webhook_deliveries: 0, idempotency_keys: 0, browser_sessions: 0 });

      // Age zero: what is finished goes, in batches of two.
      const removed = await retention(0).pruneOnce(Date.now() + 1);
      expect(removed).to.deep.equal({ jobs: doneJobs, "jobs (expiry of ended tasks)": 0, "jobs (lapses of ended holds)": 0, webhook_deliveries: deliveredRows, idempotency_keys: 1, browser_sessions: 1 });
      const after = em.fork();
      expect(await after.count(Job, { status: JobStatus.DONE })).to.equal(0);
      expect(await after.find(Job, { status: JobStatus.PENDING }), "the open task's expiry job stays").to.have.length(1).and.to.satisfy((jobs: Job[]) => jobs[0].dedupeKey === `expire:${open.id}`);
      expect(await after.count(WebhookDelivery, { status: WebhookDeliveryStatus.DELIVERED })).to.equal(0);
      expect(await after.count(WebhookDelivery, { status: WebhookDeliveryStatus.PENDING }), "undelivered deliveries stay").to.equal(pendingRows);
      expect(await after.count(WebhookAttempt, {}), "only the pending deliveries' attempts are left").to.equal(await after.count(WebhookAttempt, { delivery: { status: WebhookDeliveryStatus.PENDING } }));
      expect(await after.count(WebhookAttempt, {})).to.be.at.least(pendingRows);
      expect(await after.count(IdempotencyRecord, { scope: "retention-test" }), "the unexpired idempotency record stays").to.equal(1);
      expect(await after.count(BrowserSession, { key: key.id }), "the live session stays").to.equal(1);
      expect(await kept(after), "financial records, task events and the ledger are kept").to.deep.equal(before);

      // Nothing left to prune: a second pass removes nothing.
      expect(await retention(0).pruneOnce(Date.now() + 1)).to.deep.equal({ jobs: 0, "jobs (expiry of ended tasks)": 0, "jobs (lapses of ended holds)": 0, webhook_deliveries: 0, idempotency_keys: 0, browser_sessions: 0 });
    });
  });
}
