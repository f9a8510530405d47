import { randomUUID } from "node:crypto";
import type { Em, Orm } from "../db/orm";
import { ClaimLoop, claimLeases, type ClaimedRow } from "../jobs/claim-loop";
import type { Heartbeat } from "../jobs/worker.runtime";
import type { Logger } from "../common/logger";
import type { Clock } from "../common/clock";
import type { Config } from "../config";
import { WebhookEndpoint, WebhookEndpointStatus } from "./webhook-endpoint.entity";
import { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus } from "./webhook-delivery.entity";
import { ENDPOINT_DISABLED, endpointDisabledBody, wantsEvent } from "./webhook.events";
import { checkWebhookUrl, type UrlPolicy } from "./ssrf.guard";
import { deliveryHeaders, type SigningSecret } from "./webhook.signer";
import { postJson, type PostOutcome } from "./webhook.http";
import type { SecretBox } from "./webhook.secrets";

const USER_AGENT = "HumanOps-Webhooks/1.0";

/** Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of many deliveries spread out. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(delay / 2 + (Math.random() * delay) / 2);
}

/**
 * Sends webhook deliveries. Each delivery row is its own durable job: a
 * claim sets a lease (`locked_until`, with `FOR UPDATE SKIP LOCKED` on
 * PostgreSQL) so one replica sends it at a time, and a delivery whose
 * process died mid-request is claimed again once the lease runs out
 * (at-least-once; receivers de-duplicate by webhook-id, the event id).
 *
 * Not a JobWorker job: job handlers run inside a database transaction, and
 * waiting seconds on someone else's server must not hold one open (on
 * SQLite that would stall every writer). The request runs outside any
 * transaction; its outcome is recorded in a short one.
 */
export class WebhookSender {
  private readonly loop: ClaimLoop<ClaimedRow>;
  /** The longest a healthy sender goes between polls: a poll interval plus a claimed delivery's lease. */
  readonly leaseMs: number;

  constructor(
    private readonly orm: Orm,
    private readonly config: Config["webhooks"],
    private readonly secrets: SecretBox,
    private readonly log: Logger,
    /** What retry times and windows are judged by (the one the deliveries' times were written by). */
    private readonly clock: Clock,
  ) {
    // The lease outlives the longest request, so a live sender never loses its claim.
    const lease = { table: "webhook_deliveries", dueColumn: "next_attempt_at", pendingStatus: WebhookDeliveryStatus.PENDING, leaseMs: config.timeoutMs * 2 + 1_000 };
    const claim = (limit: number) => claimLeases(this.orm.em.fork(), lease, limit, { clock });
    this.loop = new ClaimLoop("webhook deliveries", log, config, claim, (row) => this.deliver(row), clock);
    this.leaseMs = config.pollMs + lease.leaseMs;
  }

  start(heartbeat?: Heartbeat): void {
    this.loop.start(heartbeat);
  }

  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming; waits for requests in flight (each bounded by the timeout). */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async deliver({ id, attempt }: ClaimedRow): Promise<void> {
    try {
      const delivery = await this.orm.em.fork().findOne(WebhookDelivery, id, { populate: ["endpoint"] });
      if (!delivery) return;
      const startedAt = new Date();
      const outcome =
        delivery.endpoint.status === WebhookEndpointStatus.ACTIVE
          ? await this.send(delivery)
          : { succeeded: false, error: "the endpoint is disabled", durationMs: 0 };
      await this.record(id, attempt, startedAt, outcome);
    } catch (err) {
      // The lease runs out and the delivery is tried again.
      this.log.error({ err, deliveryId: id }, "a webhook delivery attempt could not be recorded");
    }
  }

  private async send(delivery: WebhookDelivery): Promise<PostOutcome> {
    const endpoint = delivery.endpoint;
    const policy: UrlPolicy = { mode: endpoint.mode, allowLoopbackInTestMode: this.config.allowLoopbackInTestMode };
    try {
      const url = checkWebhookUrl(endpoint.url, policy);
      const now = new Date();
      const secrets: SigningSecret[] = [{ scheme: endpoint.signatureScheme, secret: this.secrets.open(endpoint.sealedSecret) }];
      const previous = endpoint.previousSecret(now);
      if (previous) secrets.push({ scheme: previous.scheme, secret: this.secrets.open(previous.sealedSecret) });
      // The stored payload goes out byte for byte: only the headers are made afresh per attempt.
      const signed = { eventId: delivery.eventId, eventType: delivery.eventType, deliveryId: delivery.id, timestamp: Math.floor(now.getTime() / 1000), body: delivery.payload };
      const headers = { "user-agent": USER_AGENT, ...deliveryHeaders(signed, secrets) };
      return await postJson(url, headers, delivery.payload, policy, this.config.timeoutMs);
    } catch (err) {
      return { succeeded: false, error: err instanceof Error ? err.message : String(err), durationMs: 0 };
    }
  }

  /** The attempt, the delivery's new state and the endpoint's health, in one transaction. */
  private async record(id: string, attempt: number, startedAt: Date, outcome: PostOutcome): Promise<void> {
    await this.orm.em.fork().transactional(async (tx) => {
      const delivery = await tx.findOne(WebhookDelivery, id, { populate: ["endpoint"] });
      if (!delivery) return;
      const endpoint = delivery.endpoint;
      const error = outcome.error?.slice(0, 500);
      tx.persist(new WebhookAttempt(delivery, { attempt, startedAt, durationMs: outcome.durationMs, succeeded: outcome.succeeded, statusCode: outcome.statusCode, error, responseExcerpt: outcome.responseExcerpt }));
      delivery.lockedUntil = undefined;
      delivery.lastStatusCode = outcome.statusCode;
      delivery.lastError = error;
      if (outcome.succeeded) {
        delivery.status = WebhookDeliveryStatus.DELIVERED;
        delivery.deliveredAt = new Date();
        endpoint.lastSuccessAt = new Date();
        endpoint.consecutiveFailures = 0;
        return;
      }
      endpoint.consecutiveFailures += 1;
      endpoint.lastFailureAt = new Date();
      const nextAttemptAt = this.clock.now() + retryDelayMs(attempt, this.config.retryBaseMs, this.config.retryMaxMs);
      if (endpoint.status === WebhookEndpointStatus.ACTIVE && nextAttemptAt <= delivery.retryUntil) {
        delivery.nextAttemptAt = nextAttemptAt;
        return;
      }
      delivery.status = WebhookDeliveryStatus.FAILED;
      if (this.failedPersistently(endpoint, delivery)) await this.disable(tx, endpoint, delivery, error);
    });
  }

  /** No delivery to it has succeeded since this one was written: the endpoint failed for a whole retry window. */
  private failedPersistently(endpoint: WebhookEndpoint, delivery: WebhookDelivery): boolean {
    return endpoint.status === WebhookEndpointStatus.ACTIVE && (!endpoint.lastSuccessAt || endpoint.lastSuccessAt < delivery.createdAt);
  }

  /** Disables the endpoint and tells the agent: a log line, the endpoint's fields, and a notice to its other endpoints that want one. */
  private async disable(em: Em, endpoint: WebhookEndpoint, delivery: WebhookDelivery, lastError?: string): Promise<void> {
    const now = new Date();
    const reason = `no successful delivery since ${delivery.createdAt.toISOString()}; ${delivery.eventId} failed for its whole retry window (last error: ${lastError ?? "none"})`.slice(0, 500);
    endpoint.status = WebhookEndpointStatus.DISABLED;
    endpoint.disabledAt = now;
    endpoint.disabledReason = reason;
    this.log.warn({ endpointId: endpoint.id, agentId: endpoint.agent.id, url: endpoint.url, reason }, "webhook endpoint disabled after persistent failure");
    const others = await em.find(WebhookEndpoint, {
      agent: endpoint.agent,
      mode: endpoint.mode,
      status: WebhookEndpointStatus.ACTIVE,
      task: null,
      id: { $ne: endpoint.id },
    });
    const noticeId = randomUUID();
    const body = endpointDisabledBody(noticeId, endpoint, reason, now);
    for (const other of others) {
      if (wantsEvent(other.eventTypes, ENDPOINT_DISABLED)) {
        em.persist(new WebhookDelivery(other, `evt_${noticeId}`, ENDPOINT_DISABLED, body, this.clock.now(), this.config.retryWindowMs));
      }
    }
  }
}
