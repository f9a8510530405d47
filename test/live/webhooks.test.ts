import { expect } from "chai";
import { testDatabases, type TestDatabase } from "../support/databases";
import { FAST_ENV } from "../support/server";
import { GraphQLClient } from "../support/graphql-client";
import { POST_TASK, registerAgent, registerOperator, taskInput, waitForStatus } from "../support/fixtures";
import { loadConfig } from "../../server/config";
import { createApp, type HumanOps } from "../../server/app";
import { createLogger } from "../../server/common/logger";
import { Mode } from "../../server/common/mode";
import { Agent } from "../../server/agents/agent.entity";
import { generateSigningSecret } from "../../server/webhooks/webhook.secrets";
import { Receiver } from "./support/receiver";
import { TestClock } from "../support/clock";
import { eventually, LogCapture } from "./support/live";
import { CREATE_ENDPOINT, DELIVERIES, ENDPOINT, legacySignatureValid, REDELIVER, ROTATE_SECRET, standardSignatureValid, UPDATE_ENDPOINT } from "./support/webhook-ops";

const CANCEL = `mutation($id: ID!) { cancelTask(id: $id) { status } }`;
const VERIFICATION_FIELDS = `score verdict reasons checks { name outcome detail photo } createdAt`;
const EVIDENCE = `query($id: ID!) { task(id: $id) { status proofs { attempt createdAt photos { position contentType byteSize sha256 width height } verification { ${VERIFICATION_FIELDS} } }
  verification { ${VERIFICATION_FIELDS} } } }`;
const DAY_MS = 86_400_000;
const LIFECYCLE_TYPES = ["task.posted", "task.accepted", "task.proof_submitted", "task.verified", "task.paid"];

interface WebhookServer {
  app: HumanOps;
  client: GraphQLClient;
  logs: LogCapture;
  stop(): Promise<void>;
}

/** A HumanOps with quick retries whose every log line (at trace level) is kept, to show secrets never reach the logs. */
async function startWebhookServer(db: TestDatabase, env: Record<string, string>, clock?: TestClock): Promise<WebhookServer> {
  const { database, drop } = await db.create();
  const config = { ...loadConfig({ ...FAST_ENV, WEBHOOK_POLL_MS: "20", WEBHOOK_TIMEOUT_MS: "2000", ...env }), database };
  const logs = new LogCapture();
  const app = await createApp(config, { log: createLogger("trace", logs), clock });
  const url = await app.listen();
  return {
    app,
    client: new GraphQLClient(`${url}/graphql`),
    logs,
    async stop() {
      await app.stop();
      await drop();
    },
  };
}

for (const db of testDatabases()) {
  describe(`webhooks (${db.name})`, () => {
    let server: WebhookServer;
    let receiver: Receiver;
    const secrets: string[] = [];

    before(async () => {
      server = await startWebhookServer(db, { WEBHOOK_RETRY_BASE_MS: "50", WEBHOOK_RETRY_MAX_MS: "400" });
    });
    beforeEach(async () => {
      receiver = await new Receiver().start();
    });
    afterEach(() => receiver.close());
    after(() => server.stop());

    async function createEndpoint(apiKey: string, input: Record<string, unknown>) {
      const { createWebhookEndpoint } = await server.client.ok(CREATE_ENDPOINT, { input: { url: receiver.url, ...input } }, apiKey);
      secrets.push(createWebhookEndpoint.secret);
      return createWebhookEndpoint as { secret: string; endpoint: Record<string, any> };
    }

    async function deliveries(apiKey: string, filter: Record<string, unknown>): Promise<Array<Record<string, any>>> {
      const { webhookDeliveries } = await server.client.ok(DELIVERIES, { filter }, apiKey);
      return webhookDeliveries.nodes;
    }

    it("delivers every transition of a test task to the agent's endpoint, signed the Standard Webhooks way, once per event id", async () => {
      const agent = await registerAgent(server.client);
      const { secret, endpoint } = await createEndpoint(agent.apiKey, {});
      expect(endpoint).to.deep.include({ eventTypes: ["task.status_changed"], status: "ACTIVE", mode: "TEST", taskId: null, signatureScheme: "STANDARD" });
      expect(secret, "whsec_ and the base64 of 32 bytes").to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);

      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await receiver.until((r) => r.requests.length >= 5);

      const byEvent = [...receiver.events].sort((a, b) => Number(BigInt(a.data.event_id) - BigInt(b.data.event_id)));
      expect(byEvent.map((e) => e.type)).to.deep.equal(LIFECYCLE_TYPES);
      expect(byEvent.map((e) => e.data.status)).to.deep.equal(["POSTED", "ACCEPTED", "SUBMITTED", "VERIFIED", "PAID"]);
      expect(byEvent.every((e) => e.data.task_id === postTask.id && e.livemode === false)).to.equal(true);
      for (const request of receiver.requests) {
        const body = JSON.parse(request.body);
        expect(standardSignatureValid(secret, request), "verified by the standardwebhooks library").to.equal(true);
        expect(standardSignatureValid(secret, { ...request, body: `${request.body} ` }), "a changed body").to.equal(false);
        expect(standardSignatureValid(secret, { ...request, headers: { ...request.headers, "webhook-id": `${body.id}0` } }), "another event id").to.equal(false);
        expect(standardSignatureValid(generateSigningSecret(), request), "another secret").to.equal(false);
        expect(request.headers["webhook-signature"], "one secret, one signature").to.match(/^v1,[A-Za-z0-9+/]{43}=$/);
        expect(request.headers["webhook-id"]).to.equal(body.id).and.equal(`evt_${body.data.event_id}`);
        expect(Number(request.headers["webhook-timestamp"])).to.be.closeTo(request.at / 1000, 5);
        expect(request.headers, "no deprecated signature for a STANDARD endpoint").not.to.have.property("humanops-signature");
        expect(request.headers["humanops-event-type"]).to.equal(body.type);
        expect(request.headers["content-type"]).to.equal("application/json");
      }
      expect(new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size).to.equal(5);

      // From SUBMITTED on, the proof by its stable routes; from the Guardian's decision on, its verification check by check (REST's shape).
      const { task } = await server.client.ok(EVIDENCE, { id: postTask.id }, agent.apiKey);
      const [submitted, verified, paid] = byEvent.slice(2);
      expect(byEvent[0].data, "no proof before SUBMITTED").not.to.have.property("proof");
      expect(submitted.data.proof).to.deep.include({ attempt: 1, submitted_at: task.proofs[0].createdAt });
      expect(submitted.data.proof.photos).to.have.length(task.proofs[0].photos.length).and.to.have.length.above(0);
      submitted.data.proof.photos.forEach((photo: Record<string, any>, i: number) => {
        const stored = task.proofs[0].photos[i];
        expect(photo).to.deep.include({ position: i, content_type: stored.contentType, byte_size: stored.byteSize, sha256: stored.sha256, width: stored.width, height: stored.height });
        expect(photo.url).to.match(new RegExp(`/api/v1/tasks/${postTask.id}/proof/photos/${i}\\?attempt=1&size=ORIGINAL$`));
        for (const url of [photo.url, photo.display_url, photo.thumbnail_url]) expect(url, "a stable route, not an expiring signed URL").not.to.match(/expires=|signature=/);
      });
      expect(submitted.data, "not scored yet at SUBMITTED").not.to.have.property("verification");
      const expected = {
        score: task.verification.score,
        verdict: task.verification.verdict,
        reasons: task.verification.reasons,
        checks: task.verification.checks,
        scored_at: task.verification.createdAt,
      };
      expect(task.verification.checks.length, "the Guardian recorded its checks").to.be.above(0);
      expect(verified.data.verification).to.deep.equal(expected);
      expect(paid.data.verification).to.deep.equal(expected);
      expect(paid.data.proof).to.deep.equal(submitted.data.proof);
    });

    it("task.manual_review and task.rejected carry the Guardian's verification, with the check that decided it", async () => {
      const agent = await registerAgent(server.client);
      await createEndpoint(agent.apiKey, { eventTypes: ["task.manual_review", "task.rejected"] });
      const { postTask: review } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REVIEW" }) }, agent.apiKey);
      const { postTask: reject } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "REJECT" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length >= 2);
      for (const [taskId, type, verdict] of [[review.id, "task.manual_review", "REVIEW"], [reject.id, "task.rejected", "REJECT"]]) {
        const event = receiver.events.find((e) => e.data.task_id === taskId)!;
        expect(event.type).to.equal(type);
        // A rejected test task is tried again: the event carries the verification of the proof it is about.
        const { task } = await server.client.ok(EVIDENCE, { id: taskId }, agent.apiKey);
        const scored = task.proofs.find((proof: Record<string, any>) => proof.attempt === event.data.proof.attempt).verification;
        expect(event.data.verification).to.deep.equal({
          score: scored.score,
          verdict: scored.verdict,
          reasons: scored.reasons,
          checks: scored.checks,
          scored_at: scored.createdAt,
        });
        expect(event.data.verification.verdict).to.equal(verdict);
        for (const check of event.data.verification.checks) {
          expect(check).to.have.all.keys("name", "outcome", "detail", "photo");
          expect(check.outcome).to.be.oneOf(["PASS", "WARN", "FAIL", "SKIPPED"]);
        }
        expect(event.data.proof.photos.length).to.be.above(0);
      }
    });

    it("delivers task.funded, when the escrow is locked on chain, to endpoints that ask for it (it is not a status change)", async () => {
      const agent = await registerAgent(server.client);
      await createEndpoint(agent.apiKey, { eventTypes: ["task.funded"] });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length >= 1);
      const [funded] = receiver.events;
      expect(funded).to.deep.include({ type: "task.funded" });
      expect(funded.data).to.deep.include({ task_id: postTask.id, kind: "ESCROW_FUNDED", status: "POSTED", previous_status: "POSTED", actor_type: "SYSTEM" });
      expect(funded.data.reason).to.match(/transaction 0x[0-9a-f]{64}$/);
    });

    it("delivers task.changed when the agent changes a task, task.tipped when it tips the operator and task.tip_paid when the tip is mined (none is a status change)", async () => {
      const agent = await registerAgent(server.client);
      await createEndpoint(agent.apiKey, { eventTypes: ["task.changed", "task.tipped", "task.tip_paid"] });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(`mutation($id: ID!) { changeTask(id: $id, input: { title: "Corner store" }) { id } }`, { id: postTask.id }, agent.apiKey);
      await receiver.until((r) => r.requests.length >= 1);
      expect(receiver.events[0]).to.deep.include({ type: "task.changed" });
      expect(receiver.events[0].data).to.deep.include({ task_id: postTask.id, kind: "TASK_CHANGED", status: "POSTED", previous_status: "POSTED", actor_type: "AGENT", reason: "changed by the agent: title" });
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);

      const paid = (await server.client.ok(POST_TASK, { input: taskInput() }, agent.apiKey)).postTask.id as string;
      await waitForStatus(server.client, agent.apiKey, paid, ["PAID"]);
      await eventually(async () => {
        const res = await server.client.request(`mutation($id: ID!) { tipTask(id: $id, amountUsd: "1") { id } }`, { id: paid }, agent.apiKey);
        return !res.errors?.length;
      }, "the tip to be accepted once the release is recorded");
      await receiver.until((r) => r.requests.length >= 2);
      expect(receiver.events[1]).to.deep.include({ type: "task.tipped" });
      expect(receiver.events[1].data).to.deep.include({ task_id: paid, kind: "TIPPED", status: "PAID", reason: "tipped 1.00 USDC by the agent" });
      await receiver.until((r) => r.requests.length >= 3);
      expect(receiver.events[2]).to.deep.include({ type: "task.tip_paid" });
      expect(receiver.events[2].data).to.deep.include({ task_id: paid, kind: "TIP_PAID", status: "PAID", previous_status: "PAID", actor_type: "SYSTEM" });
      expect(receiver.events[2].data.reason).to.match(/^the 1\.00 USDC tip reached the operator on chain in transaction 0x[0-9a-f]{64}$/);
    });

    it("a receiver that fails 3 times then succeeds gets the event exactly once more, after backing off", async () => {
      receiver.answer = (_request, index) => (index < 3 ? 500 : 200);
      const agent = await registerAgent(server.client);
      await createEndpoint(agent.apiKey, { eventTypes: ["task.cancelled"] });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);

      await eventually(async () => (await deliveries(agent.apiKey, { taskId: postTask.id }))[0]?.status === "DELIVERED", "the delivery to succeed");
      const [delivery] = await deliveries(agent.apiKey, { taskId: postTask.id });
      expect(delivery).to.deep.include({ eventType: "task.cancelled", attempts: 4, lastStatusCode: 200 });
      expect(delivery.attemptLog.map((a: any) => [a.attempt, a.succeeded, a.statusCode])).to.deep.equal([
        [1, false, 500],
        [2, false, 500],
        [3, false, 500],
        [4, true, 200],
      ]);
      expect(delivery.attemptLog.map((a: any) => a.responseExcerpt), "a loopback receiver's answers are never kept").to.deep.equal([null, null, null, null]);
      expect(new Set(receiver.requests.map((r) => r.headers["webhook-id"]))).to.deep.equal(new Set([delivery.eventId]));
      expect(new Set(receiver.requests.map((r) => r.body)), "every attempt sends the stored payload byte for byte").to.deep.equal(new Set([delivery.payload]));
      // Each wait is at least half the exponential step (base 50 ms: 50, 100, 200) — the jitter only adds.
      const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i].at);
      gaps.forEach((gap, i) => expect(gap, `wait before attempt ${i + 2}`).to.be.at.least((50 * 2 ** i) / 2));

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.requests, "nothing is sent after the success").to.have.length(4);
    });

    it("keeps a queryable delivery log, and sends a delivery again on request under the same event id", async () => {
      const agent = await registerAgent(server.client);
      const { secret, endpoint } = await createEndpoint(agent.apiKey, { eventTypes: ["task.posted", "task.cancelled"] });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
      await receiver.until((r) => r.requests.length === 2);
      await eventually(async () => (await deliveries(agent.apiKey, { endpointId: endpoint.id })).every((d) => d.status === "DELIVERED"), "both deliveries logged");

      const log = await deliveries(agent.apiKey, { endpointId: endpoint.id });
      expect(log.map((d) => d.eventType)).to.have.members(["task.posted", "task.cancelled"]);
      const firstPage = await server.client.ok(DELIVERIES, { filter: { endpointId: endpoint.id }, first: 1 }, agent.apiKey);
      const secondPage = await server.client.ok(DELIVERIES, { filter: { endpointId: endpoint.id }, first: 1, after: firstPage.webhookDeliveries.pageInfo.endCursor }, agent.apiKey);
      expect([firstPage, secondPage].map((p) => p.webhookDeliveries.nodes[0].id)).to.deep.equal(log.map((d) => d.id));
      expect(firstPage.webhookDeliveries.pageInfo.hasNextPage).to.equal(true);

      const cancelled = log.find((d) => d.eventType === "task.cancelled")!;
      const { redeliverWebhook } = await server.client.ok(REDELIVER, { id: cancelled.id }, agent.apiKey);
      expect(redeliverWebhook.status).to.equal("PENDING");
      await receiver.until((r) => r.requests.length === 3);
      const again = receiver.requests[2];
      expect(again.headers["webhook-id"]).to.equal(cancelled.eventId);
      expect(again.body).to.equal(cancelled.payload);
      expect(standardSignatureValid(secret, again)).to.equal(true);
      await eventually(async () => (await deliveries(agent.apiKey, { status: "DELIVERED", taskId: postTask.id })).some((d) => d.attemptLog.length === 2), "the redelivery logged");
    });

    it("a task's callback_url receives that task's events only, signed with its callback_secret (any text: the deprecated scheme, kept for existing callers)", async () => {
      const agent = await registerAgent(server.client);
      const callbackSecret = "cb-secret-for-one-task-0123456789";
      secrets.push(callbackSecret);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ callbackUrl: receiver.url, callbackSecret }) }, agent.apiKey);
      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await waitForStatus(server.client, agent.apiKey, postTask.id, ["PAID"]);
      await receiver.until((r) => r.requests.length >= 5);

      expect(receiver.events.map((e) => e.type)).to.have.members(LIFECYCLE_TYPES);
      expect(receiver.events.every((e) => e.data.task_id === postTask.id)).to.equal(true);
      expect(receiver.requests.every((request) => legacySignatureValid(callbackSecret, request))).to.equal(true);
      expect(receiver.requests.every((request) => request.headers["humanops-event-id"] === request.headers["webhook-id"])).to.equal(true);
      expect(receiver.requests.some((request) => "webhook-signature" in request.headers)).to.equal(false);

      const missingSecret = await server.client.fails(POST_TASK, { input: taskInput({ callbackUrl: receiver.url }) }, agent.apiKey);
      expect(missingSecret.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "callbackSecret" });
      const privateUrl = await server.client.fails(POST_TASK, { input: taskInput({ callbackUrl: "http://10.0.0.7/hook", callbackSecret }) }, agent.apiKey);
      expect(privateUrl.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "callbackUrl" });
    });

    it("a callback_secret in the whsec_ form signs that task's events the Standard Webhooks way", async () => {
      const agent = await registerAgent(server.client);
      const callbackSecret = generateSigningSecret();
      secrets.push(callbackSecret);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL", callbackUrl: receiver.url, callbackSecret }) }, agent.apiKey);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);
      await receiver.until((r) => r.events.some((e) => e.type === "task.cancelled"));
      expect(receiver.requests.every((request) => standardSignatureValid(callbackSecret, request))).to.equal(true);
      expect(receiver.requests.some((request) => "humanops-signature" in request.headers)).to.equal(false);
    });

    it("rotates a secret: both secrets sign every delivery until the stated time, then only the new one", async () => {
      const agent = await registerAgent(server.client);
      const { secret: oldSecret, endpoint } = await createEndpoint(agent.apiKey, { eventTypes: ["task.posted"] });
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const { rotateWebhookEndpointSecret: rotated } = await server.client.ok(ROTATE_SECRET, { id: endpoint.id, input: { previousSecretExpiresAt: until } }, agent.apiKey);
      secrets.push(rotated.secret);
      expect(rotated.secret).to.match(/^whsec_/).and.not.equal(oldSecret);
      expect(rotated.endpoint).to.deep.include({ signatureScheme: "STANDARD", previousSecretFingerprint: endpoint.secretFingerprint, previousSecretExpiresAt: until });
      expect(rotated.endpoint.secretFingerprint).not.to.equal(endpoint.secretFingerprint);

      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length === 1);
      const [during] = receiver.requests;
      expect(String(during.headers["webhook-signature"]).split(" "), "two signatures in one header").to.have.length(2);
      expect(standardSignatureValid(rotated.secret, during), "a receiver already on the new secret").to.equal(true);
      expect(standardSignatureValid(oldSecret, during), "a receiver still on the old secret").to.equal(true);

      // Ending the overlap now (a leaked secret): the old one stops signing at once.
      const { rotateWebhookEndpointSecret: again } = await server.client.ok(
        ROTATE_SECRET,
        { id: endpoint.id, input: { previousSecretExpiresAt: new Date(Date.now() - 1_000).toISOString() } },
        agent.apiKey,
      );
      secrets.push(again.secret);
      expect(again.endpoint).to.deep.include({ previousSecretFingerprint: null, previousSecretExpiresAt: null });
      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length === 2);
      const after = receiver.requests[1];
      expect(String(after.headers["webhook-signature"]).split(" ")).to.have.length(1);
      expect(standardSignatureValid(again.secret, after)).to.equal(true);
      expect(standardSignatureValid(rotated.secret, after)).to.equal(false);
      expect(standardSignatureValid(oldSecret, after)).to.equal(false);

      // Retrying a rotation with the secret it set changes nothing (the answer may have been lost).
      const { rotateWebhookEndpointSecret: retried } = await server.client.ok(ROTATE_SECRET, { id: endpoint.id, input: { secret: again.secret } }, agent.apiKey);
      expect(retried).to.deep.equal(again);

      // Two rotations at once: one of them replaces the other's secret, never both the same one.
      const racing = await Promise.all([1, 2].map(() => server.client.ok(ROTATE_SECRET, { id: endpoint.id }, agent.apiKey)));
      racing.forEach(({ rotateWebhookEndpointSecret: r }) => secrets.push(r.secret));
      const [first, second] = racing.map(({ rotateWebhookEndpointSecret: r }) => r.endpoint);
      const [earlier, later] = first.previousSecretFingerprint === again.endpoint.secretFingerprint ? [first, second] : [second, first];
      expect(earlier.previousSecretFingerprint, "the first took over the secret before both").to.equal(again.endpoint.secretFingerprint);
      expect(later.previousSecretFingerprint, "the second kept the first's secret as the previous one").to.equal(earlier.secretFingerprint);

      const tooLong = await server.client.fails(ROTATE_SECRET, { id: endpoint.id, input: { previousSecretExpiresAt: new Date(Date.now() + 8 * 86_400_000).toISOString() } }, agent.apiKey);
      expect(tooLong.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "previousSecretExpiresAt" });
      const badSecret = await server.client.fails(ROTATE_SECRET, { id: endpoint.id, input: { secret: "not-a-standard-secret-0123456789" } }, agent.apiKey);
      expect(badSecret.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "secret" });
      expect(badSecret.message).to.match(/whsec_ followed by the base64/);
    });

    it("keeps a LEGACY endpoint on HumanOps-Signature, and rotating it moves it to Standard Webhooks with the old signature kept over the overlap", async () => {
      const agent = await registerAgent(server.client);
      const legacySecret = "an-old-style-secret-of-any-text-42";
      const { endpoint } = await createEndpoint(agent.apiKey, { eventTypes: ["task.posted"], signatureScheme: "LEGACY", secret: legacySecret });
      expect(endpoint.signatureScheme).to.equal("LEGACY");
      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length === 1);
      expect(legacySignatureValid(legacySecret, receiver.requests[0])).to.equal(true);
      expect(receiver.requests[0].headers).not.to.have.property("webhook-signature");

      const { rotateWebhookEndpointSecret: rotated } = await server.client.ok(ROTATE_SECRET, { id: endpoint.id }, agent.apiKey);
      secrets.push(rotated.secret);
      expect(rotated.endpoint.signatureScheme).to.equal("STANDARD");
      expect(Date.parse(rotated.endpoint.previousSecretExpiresAt) - Date.now(), "a day by default").to.be.closeTo(86_400_000, 60_000);
      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await receiver.until((r) => r.requests.length === 2);
      const during = receiver.requests[1];
      expect(standardSignatureValid(rotated.secret, during), "the new secret, Standard Webhooks").to.equal(true);
      expect(legacySignatureValid(legacySecret, during), "the old secret, as the receiver checks today").to.equal(true);
    });

    it("refuses endpoint URLs that could reach private networks: https and public addresses in live mode, loopback in test mode only", async () => {
      const agent = await registerAgent(server.client);
      const liveKey = await issueLiveKey(server.app, agent.id);
      const refusedLive: Array<[string, RegExp]> = [
        [receiver.url, /https in live mode/],
        ["https://127.0.0.1:8443/hook", /loopback/],
        ["https://localhost/hook", /loopback/],
        ["https://[::1]/hook", /loopback/],
        ["https://169.254.169.254/latest/meta-data", /link-local/],
        ["https://10.1.2.3/hook", /private network/],
        ["https://192.168.1.20/hook", /private network/],
        ["https://100.64.0.1/hook", /carrier-grade NAT/],
        ["https://[fd00::1]/hook", /private network/],
        ["https://[::ffff:127.0.0.1]/hook", /loopback/],
        ["https://0.0.0.0/hook", /unspecified/],
        ["https://user:pw@93.184.215.14/hook", /credentials/],
      ];
      for (const [url, rule] of refusedLive) {
        const error = await server.client.fails(CREATE_ENDPOINT, { input: { url } }, liveKey);
        expect(error.extensions, url).to.deep.include({ code: "BAD_USER_INPUT", field: "url" });
        expect(error.message, url).to.match(rule);
      }
      const { createWebhookEndpoint } = await server.client.ok(CREATE_ENDPOINT, { input: { url: "https://93.184.215.14/hooks/humanops" } }, liveKey);
      expect(createWebhookEndpoint.endpoint.mode).to.equal("LIVE");
      secrets.push(createWebhookEndpoint.secret);

      const testPrivate = await server.client.fails(CREATE_ENDPOINT, { input: { url: "http://192.168.0.10/hook" } }, agent.apiKey);
      expect(testPrivate.message).to.match(/private network/);
      const testLoopback = await createEndpoint(agent.apiKey, {});
      expect(testLoopback.endpoint.url).to.equal(receiver.url);
      const { webhookEndpoints } = await server.client.ok(`{ webhookEndpoints { id mode } }`, {}, liveKey);
      expect(webhookEndpoints, "a live key sees live endpoints only").to.deep.equal([{ id: createWebhookEndpoint.endpoint.id, mode: "LIVE" }]);
    });

    it("checks its input, naming the field, and replays a creation retried with the same idempotency key", async () => {
      const agent = await registerAgent(server.client);
      const badType = await server.client.fails(CREATE_ENDPOINT, { input: { url: receiver.url, eventTypes: ["task.done"] } }, agent.apiKey);
      expect(badType.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "eventTypes[0]" });
      const shortSecret = await server.client.fails(CREATE_ENDPOINT, { input: { url: receiver.url, secret: "short" } }, agent.apiKey);
      expect(shortSecret.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "secret" });
      const shortKey = await server.client.fails(CREATE_ENDPOINT, { input: { url: receiver.url, secret: `whsec_${Buffer.alloc(16, 7).toString("base64")}` } }, agent.apiKey);
      expect(shortKey.extensions, "16 bytes is below the spec's 24").to.deep.include({ code: "BAD_USER_INPUT", field: "secret" });
      const urlSafe = await server.client.fails(CREATE_ENDPOINT, { input: { url: receiver.url, secret: `whsec_${Buffer.alloc(32, 251).toString("base64url")}` } }, agent.apiKey);
      expect(urlSafe.extensions, "base64url is not the spec's base64").to.deep.include({ code: "BAD_USER_INPUT", field: "secret" });
      const own = generateSigningSecret();
      secrets.push(own);
      expect((await createEndpoint(agent.apiKey, { secret: own })).secret, "a secret of the caller's own in the spec's form").to.equal(own);
      const notUrl = await server.client.fails(CREATE_ENDPOINT, { input: { url: "not a url" } }, agent.apiKey);
      expect(notUrl.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "url" });

      const input = { url: receiver.url, eventTypes: ["task.paid"], idempotencyKey: "endpoint-1" };
      const first = await createEndpoint(agent.apiKey, input);
      const retry = await createEndpoint(agent.apiKey, input);
      expect(retry).to.deep.equal(first);
      const conflict = await server.client.fails(CREATE_ENDPOINT, { input: { ...input, eventTypes: ["task.posted"] } }, agent.apiKey);
      expect(conflict.extensions?.code).to.equal("CONFLICT");
    });

    it("keeps each agent's endpoints and deliveries to that agent", async () => {
      const owner = await registerAgent(server.client);
      const other = await registerAgent(server.client);
      const operator = await registerOperator(server.client);
      const { endpoint } = await createEndpoint(owner.apiKey, { eventTypes: ["task.posted"] });
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, owner.apiKey);
      await eventually(async () => (await deliveries(owner.apiKey, { taskId: postTask.id })).length === 1, "the delivery to be written");
      const [delivery] = await deliveries(owner.apiKey, { taskId: postTask.id });

      expect((await server.client.fails(ENDPOINT, { id: endpoint.id }, other.apiKey)).extensions?.code).to.equal("NOT_FOUND");
      expect((await server.client.fails(REDELIVER, { id: delivery.id }, other.apiKey)).extensions?.code).to.equal("NOT_FOUND");
      expect(await deliveries(other.apiKey, { taskId: postTask.id })).to.deep.equal([]);
      expect((await server.client.fails(`{ webhookEndpoints { id } }`, {}, operator.testApiKey)).extensions?.code).to.equal("FORBIDDEN");
    });

    it("never writes a signing secret to the logs", () => {
      expect(secrets.length).to.be.greaterThan(4);
      for (const secret of secrets) expect(server.logs.includes(secret), "a secret in the logs").to.equal(false);
      expect(server.logs.lines.length, "the logs were captured").to.be.greaterThan(0);
    });
  });

  describe(`webhook endpoints that keep failing (${db.name})`, () => {
    let server: WebhookServer;
    let failing: Receiver;
    let watcher: Receiver;
    // Retries come every 20-50 ms; the window of a day ends when the test moves this clock past it.
    const clock = new TestClock();

    before(async () => {
      server = await startWebhookServer(db, { WEBHOOK_RETRY_BASE_MS: "20", WEBHOOK_RETRY_MAX_MS: "50", WEBHOOK_RETRY_WINDOW_MS: String(DAY_MS) }, clock);
      failing = await new Receiver(() => 503).start();
      watcher = await new Receiver().start();
    });
    after(async () => {
      await failing.close();
      await watcher.close();
      await server.stop();
    });

    it("are disabled after failing for a whole retry window, with a notice to the agent's other endpoints; re-enabling resumes", async () => {
      const agent = await registerAgent(server.client);
      const { createWebhookEndpoint: bad } = await server.client.ok(CREATE_ENDPOINT, { input: { url: failing.url, eventTypes: ["task.cancelled"] } }, agent.apiKey);
      const { createWebhookEndpoint: notices } = await server.client.ok(CREATE_ENDPOINT, { input: { url: watcher.url, eventTypes: ["webhook_endpoint.disabled"] } }, agent.apiKey);
      const { postTask } = await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
      await server.client.ok(CANCEL, { id: postTask.id }, agent.apiKey);

      // Retried within the window, and not given up on: still active after a few failures.
      await failing.until((r) => r.requests.length >= 3);
      expect((await server.client.ok(ENDPOINT, { id: bad.endpoint.id }, agent.apiKey)).webhookEndpoint.status).to.equal("ACTIVE");
      expect(watcher.requests).to.have.length(0);
      clock.advance(DAY_MS);

      await watcher.until((r) => r.requests.length === 1);
      const [notice] = watcher.events;
      expect(notice.type).to.equal("webhook_endpoint.disabled");
      expect(notice.data).to.deep.include({ endpoint_id: bad.endpoint.id, url: failing.url });
      expect(standardSignatureValid(notices.secret, watcher.requests[0])).to.equal(true);

      const { webhookEndpoint } = await server.client.ok(ENDPOINT, { id: bad.endpoint.id }, agent.apiKey);
      expect(webhookEndpoint.status).to.equal("DISABLED");
      expect(webhookEndpoint.disabledReason).to.match(/no successful delivery since .* HTTP 503/);
      expect(webhookEndpoint.consecutiveFailures).to.equal(failing.requests.length);
      const [failed] = await server.client.ok(DELIVERIES, { filter: { endpointId: bad.endpoint.id } }, agent.apiKey).then((d) => d.webhookDeliveries.nodes);
      expect(failed.status).to.equal("FAILED");
      expect(failed.attemptLog.length).to.be.at.least(3);
      expect((await server.client.fails(REDELIVER, { id: failed.id }, agent.apiKey)).extensions?.code, "no redelivery while disabled").to.equal("CONFLICT");

      failing.answer = () => 200;
      const { updateWebhookEndpoint } = await server.client.ok(UPDATE_ENDPOINT, { id: bad.endpoint.id, input: { enabled: true } }, agent.apiKey);
      expect(updateWebhookEndpoint).to.deep.include({ status: "ACTIVE", disabledReason: null, consecutiveFailures: 0 });
      const sentBefore = failing.requests.length;
      await server.client.ok(REDELIVER, { id: failed.id }, agent.apiKey);
      await failing.until((r) => r.requests.length === sentBefore + 1);
      await eventually(async () => (await server.client.ok(ENDPOINT, { id: bad.endpoint.id }, agent.apiKey)).webhookEndpoint.lastSuccessAt !== null, "the success recorded");
    });
  });
}

async function issueLiveKey(app: HumanOps, agentId: string): Promise<string> {
  const em = app.orm.em.fork();
  const key = app.services.keys.issue(em, Mode.LIVE, { agent: em.getReference(Agent, agentId) });
  await em.flush();
  return key;
}
