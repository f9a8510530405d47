import { expect } from "chai";
import { testDatabases, type TestDatabase } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { registerAgent, registerOperator } from "../support/fixtures";
import { FakeSumsub, type SentWebhook } from "../support/fake-sumsub";
import { RestClient } from "../support/rest-client";
import { eventually } from "../live/support/live";
import { Job, JobStatus } from "../../server/jobs/job.entity";
import { KycJobs, RECHECK_AFTER_MS } from "../../server/kyc/kyc.service";
import { LogCapture } from "../live/support/live";
import { loadConfig } from "../../server/config";
import { createLogger } from "../../server/common/logger";
import { Mode } from "../../server/common/mode";
import { Agent } from "../../server/agents/agent.entity";
import { Task } from "../../server/tasks/task.entity";
import { TaskType } from "../../server/tasks/task.enums";
import { Secret } from "../../server/kyc/kyc.config";
import { SumsubClient, SumsubError } from "../../server/kyc/sumsub.client";
import { DigestHeaders, payloadDigest } from "../../server/kyc/sumsub.webhook";

const START_KYC = `mutation { startKyc { applicantId accessToken expiresAt levelName kycStatus } }`;
const VIEWER = `{ viewerOperator { id kycStatus kyc { applicantId levelName reviewStatus reviewAnswer rejectType reason } } }`;
const ACCEPT = `mutation($id: ID!) { acceptTask(id: $id) { status } }`;

type KycServer = TestServer & { logs: LogCapture };

/** A HumanOps pointed at the fake Sumsub, keeping every log line (trace level) to show no secret reaches them. */
async function startKycServer(db: TestDatabase, env: Record<string, string>): Promise<KycServer> {
  const logs = new LogCapture();
  return { ...(await startServer(db, env, createLogger("trace", logs))), logs };
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

for (const db of testDatabases()) {
  describe(`operator KYC with Sumsub (${db.name})`, () => {
    let fake: FakeSumsub;
    let server: KycServer;

    before(async () => {
      fake = await new FakeSumsub().start();
      server = await startKycServer(db, fake.env());
      fake.webhookUrl = `${server.url}/webhooks/sumsub`;
    });
    after(async () => {
      await server?.stop();
      await fake?.close();
    });

    /** A registered operator who has started KYC with its live key. */
    async function verifyingOperator(name = "kyc-op"): Promise<{ id: string; liveApiKey: string; testApiKey: string; applicantId: string }> {
      const operator = await registerOperator(server.client, name);
      const { startKyc } = await server.client.ok(START_KYC, {}, operator.liveApiKey);
      return { ...operator, applicantId: startKyc.applicantId };
    }

    async function viewer(apiKey: string): Promise<{ kycStatus: string; kyc: Record<string, string | null> | null }> {
      return (await server.client.ok(VIEWER, {}, apiKey)).viewerOperator;
    }

    /** A funded-looking live task row: live tasks need a chain to post, and these tests only reach the KYC gate. */
    async function liveTask(): Promise<string> {
      const agent = await registerAgent(server.client, "kyc-agent");
      const em = server.app.orm.em.fork();
      const task = new Task({
        agent: em.getReference(Agent, agent.id),
        mode: Mode.LIVE,
        title: "Photo of storefront",
        description: "Two clear photos of the facade.",
        taskType: TaskType.PHOTO,
        lat: 30.2672,
        lng: -97.7431,
        rewardUnits: 15_000_000n,
        feeUnits: 1_500_000n,
        deadline: new Date(Date.now() + 86_400_000),
        proofRequirements: ["Full facade photo"],
        maxAttempts: 3,
        acceptWindowMinutes: 120,
      });
      await em.persist(task).flush();
      return task.id;
    }

    it("a live operator starts KYC once: the applicant is created by a signed request, and each call returns a fresh WebSDK token", async () => {
      const operator = await registerOperator(server.client, "starter");
      const before = fake.requests.length;
      const first = (await server.client.ok(START_KYC, {}, operator.liveApiKey)).startKyc;

      const applicant = fake.applicantFor(operator.id);
      expect(applicant, "the fake holds an applicant for the operator").to.not.equal(undefined);
      expect(first).to.deep.include({ applicantId: applicant!.id, levelName: "basic-kyc-level", kycStatus: "PENDING" });
      expect(fake.issuedTokens).to.include(first.accessToken);
      const ttlMs = new Date(first.expiresAt).getTime() - Date.now();
      expect(ttlMs).to.be.within(1_790_000, 1_800_000);

      const sent = fake.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).to.deep.equal(["POST /resources/applicants?levelName=basic-kyc-level", "POST /resources/accessTokens/sdk"]);
      expect(sent.every((r) => r.signatureValid), "every request carried a valid X-App-Access-Sig").to.equal(true);
      expect(JSON.parse(sent[0].body)).to.deep.equal({ externalUserId: operator.id });
      expect(JSON.parse(sent[1].body)).to.deep.equal({ userId: operator.id, levelName: "basic-kyc-level", ttlInSecs: 1800 });

      const second = (await server.client.ok(START_KYC, {}, operator.liveApiKey)).startKyc;
      expect(second.applicantId, "the applicant is reused").to.equal(first.applicantId);
      expect(second.accessToken, "a fresh token").to.not.equal(first.accessToken);
      const again = fake.requests.slice(before + 2).map((r) => `${r.method} ${r.path}`);
      expect(again, "the second call reads the review (a lost webhook is caught up), creates nothing").to.deep.equal([
        `GET /resources/applicants/${first.applicantId}/status`,
        "POST /resources/accessTokens/sdk",
      ]);
      expect((await viewer(operator.liveApiKey)).kyc).to.deep.include({ applicantId: first.applicantId, reviewAnswer: null });
    });

    it("adopts the existing Sumsub applicant when Sumsub answers 409 for the operator's externalUserId", async () => {
      const operator = await registerOperator(server.client, "existing");
      const remote = await new SumsubClient({ baseUrl: fake.url, appToken: new Secret(fake.appToken), secretKey: new Secret(fake.secretKey), timeoutMs: 2_000 }).ensureApplicant(operator.id, fake.levelName);
      const before = fake.requests.length;
      const { startKyc } = await server.client.ok(START_KYC, {}, operator.liveApiKey);
      expect(startKyc.applicantId).to.equal(remote.id);
      expect(fake.requests.slice(before).map((r) => r.path)).to.include(`/resources/applicants/-;externalUserId=${operator.id}/one`);
    });

    it("a test key gets a clear error: test mode needs no KYC", async () => {
      const operator = await registerOperator(server.client, "tester");
      const refused = await server.client.fails(START_KYC, {}, operator.testApiKey);
      expect(refused.extensions?.code).to.equal("FORBIDDEN");
      expect(refused.message).to.match(/test mode needs no KYC/);
      expect(fake.applicantFor(operator.id)).to.equal(undefined);
    });

    it("over REST too: POST /api/v1/operators/kyc starts KYC with the live key (200) and refuses a test key (403)", async () => {
      const rest = await RestClient.connect(server.url);
      const operator = await registerOperator(server.client, "rest-kyc");
      const started = await rest.request("POST", "/operators/kyc", { apiKey: operator.liveApiKey });
      expect(started.status).to.equal(200);
      expect(started.body).to.include({ level_name: fake.levelName, kyc_status: "PENDING", applicant_id: fake.applicantFor(operator.id)!.id });
      expect(started.body.access_token).to.be.a("string").and.not.equal("");
      const refused = await rest.request("POST", "/operators/kyc", { apiKey: operator.testApiKey });
      expect(refused.status).to.equal(403);
      expect(refused.body.error.message).to.match(/test mode needs no KYC/);
    });

    it("a PENDING operator cannot accept a live task; a GREEN review approves them and the KYC gate opens", async () => {
      const operator = await verifyingOperator("green");
      const taskId = await liveTask();
      const pending = await server.client.fails(ACCEPT, { id: taskId }, operator.liveApiKey);
      expect(pending.extensions?.code).to.equal("FORBIDDEN");
      expect(pending.message).to.match(/KYC.*PENDING/);

      const sent = await fake.review(operator.applicantId, "GREEN");
      expect(sent.status, sent.body).to.equal(200);
      expect(await viewer(operator.liveApiKey)).to.deep.include({ kycStatus: "APPROVED" });
      expect((await viewer(operator.liveApiKey)).kyc).to.deep.include({ reviewStatus: "completed", reviewAnswer: "GREEN", rejectType: null, reason: null });

      // Past the KYC gate, acceptance stops at the next documented check: this row has no escrow funded on chain.
      const next = await server.client.fails(ACCEPT, { id: taskId }, operator.liveApiKey);
      expect(next.extensions?.code).to.equal("CONFLICT");
      expect(next.message).to.match(/escrow is not funded/);
    });

    it("a decision whose webhook was lost lands when the operator comes back to startKyc; an older event arriving after it changes nothing", async () => {
      const operator = await verifyingOperator("lost-webhook");
      const reviewedAt = new Date(Date.now() - 60_000);
      fake.decide(operator.applicantId, "GREEN", reviewedAt);
      expect((await viewer(operator.liveApiKey)).kycStatus, "no webhook came").to.equal("PENDING");
      const { startKyc } = await server.client.ok(START_KYC, {}, operator.liveApiKey);
      expect(startKyc.kycStatus).to.equal("APPROVED");
      expect((await viewer(operator.liveApiKey)).kycStatus).to.equal("APPROVED");
      const older = await fake.event(operator.applicantId, "applicantReset", "init", { at: new Date(reviewedAt.getTime() - 30_000) });
      expect(JSON.parse(older.body)).to.deep.equal({ status: "stale" });
      expect((await viewer(operator.liveApiKey)).kycStatus).to.equal("APPROVED");
    });

    it("without the operator coming back, a durable recheck asks Sumsub later and applies the decision; while undecided it asks again, further out", async () => {
      const operator = await verifyingOperator("recheck");
      const em = () => server.app.orm.em.fork();
      const rechecks = () => em().find(Job, { kind: KycJobs.recheck, dedupeKey: { $like: `${KycJobs.recheck}:${operator.applicantId}:%` } }, { orderBy: { id: "asc" } });
      const [first] = await rechecks();
      expect(first.status).to.equal(JobStatus.PENDING);
      expect(first.runAt - Date.now(), "the first check is 15 minutes out").to.be.within(RECHECK_AFTER_MS[0] - 60_000, RECHECK_AFTER_MS[0]);
      const runNow = () => em().nativeUpdate(Job, { kind: KycJobs.recheck, status: JobStatus.PENDING, dedupeKey: { $like: `${KycJobs.recheck}:${operator.applicantId}:%` } }, { runAt: Date.now() });

      // Still undecided at Sumsub: the next check is queued an hour out.
      await runNow();
      await eventually(async () => (await rechecks()).length === 2, "a second check to be queued");
      const [, second] = await rechecks();
      expect(second.runAt - Date.now()).to.be.within(RECHECK_AFTER_MS[1] - 60_000, RECHECK_AFTER_MS[1]);

      // Decided, but the webhook was lost: the check applies it and asks no more.
      fake.decide(operator.applicantId, "GREEN", new Date(Date.now() - 1_000));
      await runNow();
      await eventually(async () => (await viewer(operator.liveApiKey)).kycStatus === "APPROVED", "the recheck to approve the operator");
      await eventually(async () => (await rechecks()).every((job) => job.status === JobStatus.DONE), "the checks to finish");
      expect(await rechecks()).to.have.length(2);
    });

    it("RED FINAL rejects the operator; RED RETRY keeps them PENDING with the reason they may act on", async () => {
      const final = await verifyingOperator("final");
      await fake.review(final.applicantId, { answer: "RED", rejectType: "FINAL", comment: "The document is forged." });
      const rejected = await viewer(final.liveApiKey);
      expect(rejected.kycStatus).to.equal("REJECTED");
      expect(rejected.kyc).to.deep.include({ reviewAnswer: "RED", rejectType: "FINAL", reason: "The document is forged." });

      const retry = await verifyingOperator("retry");
      await fake.review(retry.applicantId, { answer: "RED", rejectType: "RETRY", comment: "Upload a sharper photo of your ID." });
      const resubmit = await viewer(retry.liveApiKey);
      expect(resubmit.kycStatus).to.equal("PENDING");
      expect(resubmit.kyc).to.deep.include({ reviewAnswer: "RED", rejectType: "RETRY", reason: "Upload a sharper photo of your ID." });
      expect(JSON.stringify(resubmit.kyc), "the client-only comment is not shown").to.not.include("internal note");

      const pending = await fake.event(retry.applicantId, "applicantPending", "pending");
      expect(pending.status).to.equal(200);
      expect((await viewer(retry.liveApiKey)).kyc).to.deep.include({ reviewStatus: "pending" });
    });

    it("a webhook with a bad, missing or mismatched digest is 401 and changes nothing", async () => {
      const operator = await verifyingOperator("forged");
      const body = JSON.stringify({ applicantId: operator.applicantId, externalUserId: operator.id, type: "applicantReviewed", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" }, createdAtMs: "2030-01-01 00:00:00.000", levelName: fake.levelName });
      const attempts: SentWebhook[] = [
        await fake.post(body, {}),
        await fake.post(body, { [DigestHeaders.digest]: payloadDigest("not-the-webhook-secret", body), [DigestHeaders.algorithm]: "HMAC_SHA256_HEX" }),
        await fake.post(body, { [DigestHeaders.digest]: payloadDigest(fake.webhookSecret, `${body} `), [DigestHeaders.algorithm]: "HMAC_SHA256_HEX" }),
        await fake.post(body, { [DigestHeaders.digest]: payloadDigest(fake.webhookSecret, body, "HMAC_SHA512_HEX"), [DigestHeaders.algorithm]: "HMAC_SHA256_HEX" }),
        await fake.post(body, { [DigestHeaders.digest]: payloadDigest(fake.webhookSecret, body), [DigestHeaders.algorithm]: "MD5" }),
      ];
      for (const attempt of attempts) {
        expect(attempt.status, attempt.body).to.equal(401);
        expect(JSON.parse(attempt.body).error.message).to.match(/X-Payload-Digest/);
      }
      expect(await viewer(operator.liveApiKey)).to.deep.include({ kycStatus: "PENDING" });
      expect((await viewer(operator.liveApiKey)).kyc).to.deep.include({ reviewAnswer: null });
    });

    it("verifies SHA-512 and SHA-1 digests too, as Sumsub may be configured to send", async () => {
      const sha512 = await verifyingOperator("sha512");
      expect((await fake.review(sha512.applicantId, "GREEN", { algorithm: "HMAC_SHA512_HEX" })).status).to.equal(200);
      expect((await viewer(sha512.liveApiKey)).kycStatus).to.equal("APPROVED");
      const sha1 = await verifyingOperator("sha1");
      expect((await fake.review(sha1.applicantId, "GREEN", { algorithm: "HMAC_SHA1_HEX" })).status).to.equal(200);
      expect((await viewer(sha1.liveApiKey)).kycStatus).to.equal("APPROVED");
    });

    it("the same webhook twice changes state once, and an older event after a newer one changes nothing", async () => {
      const operator = await verifyingOperator("ordering");
      const green = await fake.review(operator.applicantId, "GREEN", { at: minutesAgo(5) });
      expect(JSON.parse(green.body)).to.deep.equal({ status: "applied" });
      const after = (await viewer(operator.liveApiKey)).kyc;

      const replay = await fake.post(green.rawBody, green.headers);
      expect(replay.status, "a retry is acknowledged so Sumsub stops sending it").to.equal(200);
      expect(JSON.parse(replay.body)).to.deep.equal({ status: "stale" });

      const older = await fake.review(operator.applicantId, { answer: "RED", rejectType: "FINAL" }, { at: minutesAgo(10) });
      expect(JSON.parse(older.body)).to.deep.equal({ status: "stale" });
      const pendingLate = await fake.event(operator.applicantId, "applicantPending", "pending", { at: minutesAgo(7) });
      expect(JSON.parse(pendingLate.body)).to.deep.equal({ status: "stale" });
      const unchanged = await viewer(operator.liveApiKey);
      expect(unchanged.kycStatus).to.equal("APPROVED");
      expect(unchanged.kyc).to.deep.equal(after);

      await fake.review(operator.applicantId, { answer: "RED", rejectType: "FINAL", comment: "Sanctions match." }, { at: minutesAgo(1) });
      expect((await viewer(operator.liveApiKey)).kycStatus, "a newer decision still applies").to.equal("REJECTED");
    });

    it("a signed webhook whose externalUserId is not the applicant's operator changes nothing; an unknown applicant is acknowledged and ignored", async () => {
      const operator = await verifyingOperator("mismatch");
      const other = await registerOperator(server.client, "other");
      const sign = (payload: Record<string, unknown>) => {
        const body = JSON.stringify({ type: "applicantReviewed", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" }, createdAtMs: "2030-01-01 00:00:00.000", ...payload });
        return fake.post(body, { [DigestHeaders.digest]: payloadDigest(fake.webhookSecret, body), [DigestHeaders.algorithm]: "HMAC_SHA256_HEX" });
      };
      const mismatched = await sign({ applicantId: operator.applicantId, externalUserId: other.id });
      expect(mismatched.status).to.equal(409);
      expect(JSON.parse(mismatched.body).error.message).to.match(/externalUserId/);
      expect((await viewer(operator.liveApiKey)).kycStatus).to.equal("PENDING");
      expect((await viewer(other.liveApiKey)).kycStatus).to.equal("PENDING");

      const unknown = await sign({ applicantId: "0123456789abcdef01234567", externalUserId: other.id });
      expect(unknown.status).to.equal(200);
      expect(JSON.parse(unknown.body)).to.deep.equal({ status: "unknown-applicant" });
      expect((await viewer(other.liveApiKey)).kycStatus).to.equal("PENDING");

      const malformed = await sign({ applicantId: operator.applicantId, externalUserId: operator.id, createdAtMs: "yesterday" });
      expect(malformed.status).to.equal(400);
      expect(JSON.parse(malformed.body).error.message).to.match(/^createdAtMs: /);
    });

    it("the fake refuses a request signed with the wrong secret key, like Sumsub, and the client reports it without the credentials", async () => {
      const wrongKey = "wrong-secret-key-0123456789";
      const client = new SumsubClient({ baseUrl: fake.url, appToken: new Secret(fake.appToken), secretKey: new Secret(wrongKey), timeoutMs: 2_000 });
      const err = await client.ensureApplicant("someone", fake.levelName).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(SumsubError);
      expect((err as SumsubError).status).to.equal(401);
      expect((err as SumsubError).message).to.match(/signature mismatch/);
      expect((err as SumsubError).message).to.not.include(fake.appToken).and.not.include(wrongKey);
      expect(fake.requests.at(-1)!.signatureValid).to.equal(false);
    });

    it("never writes the Sumsub secrets or WebSDK tokens to the logs", () => {
      expect(fake.issuedTokens.length).to.be.greaterThan(3);
      for (const secret of [fake.appToken, fake.secretKey, fake.webhookSecret, ...fake.issuedTokens]) {
        expect(server.logs.includes(secret), "a secret in the logs").to.equal(false);
      }
      expect(server.logs.includes("Sumsub webhook"), "webhooks were logged").to.equal(true);
      expect(server.logs.includes("missing or wrong X-Payload-Digest"), "refusals were logged").to.equal(true);
    });
  });
}

describe("operator KYC when Sumsub is not configured", () => {
  it("startKyc says KYC is not configured and /webhooks/sumsub is 404", async () => {
    const server = await startServer(testDatabases()[0]);
    try {
      const operator = await registerOperator(server.client, "unconfigured");
      const refused = await server.client.fails(START_KYC, {}, operator.liveApiKey);
      expect(refused.message).to.match(/KYC is not configured on this server/);
      const res = await fetch(`${server.url}/webhooks/sumsub`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status).to.equal(404);
    } finally {
      await server.stop();
    }
  });

  it("refuses to start with only some Sumsub secrets, naming what is missing and never a value", () => {
    const token = "sbx:partial-token-value";
    expect(() => loadConfig({ SUMSUB_APP_TOKEN: token })).to.throw(/SUMSUB_SECRET_KEY, SUMSUB_WEBHOOK_SECRET: required with SUMSUB_APP_TOKEN/);
    try {
      loadConfig({ SUMSUB_APP_TOKEN: token });
    } catch (err) {
      expect((err as Error).message).to.not.include(token);
    }
    expect(JSON.stringify(loadConfig({ SUMSUB_APP_TOKEN: token, SUMSUB_SECRET_KEY: "secret-key-1", SUMSUB_WEBHOOK_SECRET: "hook-secret-1" }).kyc)).to.not.match(/secret-key-1|hook-secret-1|partial-token/);
  });
});
