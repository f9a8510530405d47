import { createHash } from "node:crypto";
import { UniqueConstraintViolationException, type FilterQuery } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import { lockForUpdate } from "../db/dialect";
import type { Config } from "../config";
import { systemClock, type Clock } from "../common/clock";
import type { Mode } from "../common/mode";
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from "../common/errors";
import { Agent } from "../agents/agent.entity";
import type { Task } from "../tasks/task.entity";
import type { AgentPrincipal, TaskCallbackRequest, TaskCallbacks } from "../tasks/task.service";
import { WebhookEndpoint, WebhookEndpointStatus } from "./webhook-endpoint.entity";
import { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus } from "./webhook-delivery.entity";
import { TASK_MESSAGE, TASK_STATUS_CHANGED, WEBHOOK_EVENT_TYPES } from "./webhook.events";
import { assertResolvesToAllowed, checkWebhookUrl, type UrlPolicy } from "./ssrf.guard";
import { generateSigningSecret, type SecretBox } from "./webhook.secrets";
import { STANDARD_SECRET_BYTES, standardSecretKey, WebhookSignatureScheme } from "./webhook.signer";

export interface CreateEndpointRequest {
  url: string;
  eventTypes?: string[] | null;
  secret?: string | null;
  signatureScheme?: WebhookSignatureScheme | null;
  description?: string | null;
  idempotencyKey?: string | null;
}

export interface RotateSecretRequest {
  secret?: string | null;
  previousSecretExpiresAt?: Date | null;
}

export interface UpdateEndpointRequest {
  url?: string | null;
  eventTypes?: string[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

export interface DeliveryFilter {
  endpointId?: string | null;
  taskId?: string | null;
  status?: WebhookDeliveryStatus | null;
}

export const WEBHOOK_LIMITS = {
  endpointsPerAgent: 20,
  eventTypes: 20,
  secretMinChars: 24,
  secretMaxChars: 256,
  descriptionChars: 500,
  idempotencyKeyChars: 255,
} as const;

/** A rotation keeps the replaced secret signing for a day unless told otherwise, and for a week at most. */
export const WEBHOOK_ROTATION = { defaultOverlapMs: 24 * 3_600_000, maxOverlapMs: 7 * 24 * 3_600_000 } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function optionalText(value: string | null | undefined, field: string, max: number): string | undefined {
  const trimmed = value?.trim();
  if (trimmed && trimmed.length > max) throw new ValidationError(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed || undefined;
}

function eventTypesOf(value: string[] | null | undefined): string[] {
  if (value === undefined || value === null) return [TASK_STATUS_CHANGED];
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError("eventTypes", "must list at least one event type");
  if (value.length > WEBHOOK_LIMITS.eventTypes) throw new ValidationError("eventTypes", `must list at most ${WEBHOOK_LIMITS.eventTypes} event types`);
  value.forEach((type, i) => {
    if (!WEBHOOK_EVENT_TYPES.includes(type)) throw new ValidationError(`eventTypes[${i}]`, `must be one of ${WEBHOOK_EVENT_TYPES.join(", ")}`);
  });
  return [...new Set(value)];
}

/** A secret given for a STANDARD endpoint must be in the spec's form, so every Standard Webhooks library can verify with it. */
function standardSecretOf(value: string | null | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!standardSecretKey(value)) {
    throw new ValidationError(field, `must be whsec_ followed by the base64 (with padding) of ${STANDARD_SECRET_BYTES.min} to ${STANDARD_SECRET_BYTES.max} random bytes, as the Standard Webhooks specification asks; leave it out to have one generated`);
  }
  return value;
}

/** LEGACY (deprecated) secrets are any text of 24-256 visible characters, used as the HMAC key as they are. */
function legacySecretOf(value: string | null | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!/^\S+$/.test(value)) throw new ValidationError(field, "must not be empty or contain whitespace");
  if (value.length < WEBHOOK_LIMITS.secretMinChars || value.length > WEBHOOK_LIMITS.secretMaxChars) {
    throw new ValidationError(field, `must be ${WEBHOOK_LIMITS.secretMinChars} to ${WEBHOOK_LIMITS.secretMaxChars} characters`);
  }
  return value;
}

function requestHash(request: CreateEndpointRequest, url: string, eventTypes: string[]): string {
  const canonical = JSON.stringify({ url, eventTypes, secret: request.secret ?? null, description: request.description ?? null, signatureScheme: request.signatureScheme ?? null });
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * Tells the rest of the process of work a commit left that no commit hook
 * announces. Jobs, chain transactions and task events are heard of from
 * their own commit hooks (db/commit-hook.ts), and webhook deliveries of task
 * events from the dispatcher that writes them.
 */
export interface CommitSignals {
  /** Webhook deliveries were made due by hand (a redelivery). */
  deliveriesDue(): void;
}

/**
 * Webhook endpoints and their delivery log, for the agent that owns them
 * (in the mode of its key). Deliveries themselves are written by the
 * dispatcher and sent by the sender; this service lets agents manage where
 * they go and look at, or repeat, what was sent.
 */
export class WebhookService implements TaskCallbacks {
  constructor(
    private readonly config: Config,
    private readonly secrets: SecretBox,
    private readonly signals: CommitSignals,
    /** What a redelivery's retry window is judged by: the clock the sender judges retries by. */
    private readonly clock: Clock = systemClock,
  ) {}

  policy(mode: Mode): UrlPolicy {
    return { mode, allowLoopbackInTestMode: this.config.webhooks.allowLoopbackInTestMode };
  }

  async create(em: Em, principal: AgentPrincipal, request: CreateEndpointRequest): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = await this.checkedUrl(request.url, principal.mode, "url");
    const eventTypes = eventTypesOf(request.eventTypes);
    const description = optionalText(request.description, "description", WEBHOOK_LIMITS.descriptionChars);
    const idempotencyKey = optionalText(request.idempotencyKey, "idempotencyKey", WEBHOOK_LIMITS.idempotencyKeyChars);
    const hash = requestHash(request, url, eventTypes);
    if (idempotencyKey) {
      const replay = await this.findIdempotent(em, principal, idempotencyKey, hash);
      if (replay) return replay;
    }
    const signatureScheme = request.signatureScheme ?? WebhookSignatureScheme.STANDARD;
    const given = signatureScheme === WebhookSignatureScheme.STANDARD ? standardSecretOf(request.secret, "secret") : legacySecretOf(request.secret, "secret");
    const secret = given ?? generateSigningSecret();
    const existing = await em.count(WebhookEndpoint, { agent: principal.agentId, mode: principal.mode, task: null });
    if (existing >= WEBHOOK_LIMITS.endpointsPerAgent) {
      throw new LimitExceededError(`an agent may have at most ${WEBHOOK_LIMITS.endpointsPerAgent} webhook endpoints per mode; delete one first`);
    }
    const endpoint = new WebhookEndpoint({
      agent: em.getReference(Agent, principal.agentId),
      mode: principal.mode,
      url,
      eventTypes,
      description,
      ...this.secrets.sealWithFingerprint(secret),
      signatureScheme,
      idempotencyKey,
      requestHash: hash,
    });
    try {
      await em.persist(endpoint).flush();
    } catch (err) {
      // Two requests with one idempotency key raced: the loser answers with the winner's endpoint.
      if (err instanceof UniqueConstraintViolationException && idempotencyKey) {
        const replay = await this.findIdempotent(em.fork(), principal, idempotencyKey, hash);
        if (replay) return replay;
      }
      throw err;
    }
    return { endpoint, secret };
  }

  async list(em: Em, principal: AgentPrincipal): Promise<WebhookEndpoint[]> {
    return em.find(WebhookEndpoint, { agent: principal.agentId, mode: principal.mode }, { orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  }

  async get(em: Em, principal: AgentPrincipal, id: string): Promise<WebhookEndpoint> {
    const endpoint = UUID.test(id) ? await em.findOne(WebhookEndpoint, { id, agent: principal.agentId, mode: principal.mode }) : null;
    if (!endpoint) throw new NotFoundError("webhook endpoint", id);
    return endpoint;
  }

  async update(em: Em, principal: AgentPrincipal, id: string, request: UpdateEndpointRequest): Promise<WebhookEndpoint> {
    const endpoint = await this.get(em, principal, id);
    if (request.url !== undefined && request.url !== null) endpoint.url = await this.checkedUrl(request.url, principal.mode, "url");
    if (request.eventTypes !== undefined && request.eventTypes !== null) endpoint.eventTypes = eventTypesOf(request.eventTypes);
    if (request.description !== undefined) endpoint.description = optionalText(request.description, "description", WEBHOOK_LIMITS.descriptionChars);
    if (request.enabled === true) {
      endpoint.status = WebhookEndpointStatus.ACTIVE;
      endpoint.consecutiveFailures = 0;
      endpoint.disabledAt = undefined;
      endpoint.disabledReason = undefined;
    } else if (request.enabled === false && endpoint.status === WebhookEndpointStatus.ACTIVE) {
      endpoint.status = WebhookEndpointStatus.DISABLED;
      endpoint.disabledAt = new Date();
      endpoint.disabledReason = "disabled by the agent";
    }
    await em.flush();
    return endpoint;
  }

  /**
   * Replaces the endpoint's secret with a new one (generated, or the
   * caller's, in the Standard Webhooks form) and moves the endpoint to
   * STANDARD. The replaced secret keeps signing every delivery beside the new
   * one until `previousSecretExpiresAt` (default a day; at most a week; a
   * moment in the past ends it at once, e.g. for a leaked secret), so the
   * receiver can switch at any time in between. A LEGACY secret goes on
   * signing in HumanOps-Signature over that overlap. Rotating again during an
   * overlap drops the older secret. Repeating a rotation with the secret it
   * set changes nothing, so a caller that lost the answer can retry.
   */
  async rotateSecret(em: Em, principal: AgentPrincipal, id: string, request: RotateSecretRequest): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    // Row-locked: two rotations at once must not both take the same secret as the one to keep.
    return em.transactional((tx) => this.rotateLocked(tx, principal, id, request));
  }

  private async rotateLocked(em: Em, principal: AgentPrincipal, id: string, request: RotateSecretRequest): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const endpoint = UUID.test(id) ? await em.findOne(WebhookEndpoint, { id, agent: principal.agentId, mode: principal.mode }, lockForUpdate(em)) : null;
    if (!endpoint) throw new NotFoundError("webhook endpoint", id);
    const given = standardSecretOf(request.secret, "secret");
    if (given && endpoint.signatureScheme === WebhookSignatureScheme.STANDARD && this.secrets.open(endpoint.sealedSecret) === given) return { endpoint, secret: given };
    const now = Date.now();
    const expiresAt = request.previousSecretExpiresAt ?? new Date(now + WEBHOOK_ROTATION.defaultOverlapMs);
    if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) throw new ValidationError("previousSecretExpiresAt", "must be a date-time");
    if (expiresAt.getTime() > now + WEBHOOK_ROTATION.maxOverlapMs) {
      throw new ValidationError("previousSecretExpiresAt", `must be at most ${WEBHOOK_ROTATION.maxOverlapMs / 86_400_000} days from now`);
    }
    const secret = given ?? generateSigningSecret();
    const overlaps = expiresAt.getTime() > now;
    endpoint.previousSealedSecret = overlaps ? endpoint.sealedSecret : undefined;
    endpoint.previousFingerprint = overlaps ? endpoint.secretFingerprint : undefined;
    endpoint.previousScheme = overlaps ? endpoint.signatureScheme : undefined;
    endpoint.previousExpiresAt = overlaps ? expiresAt : undefined;
    const sealed = this.secrets.sealWithFingerprint(secret);
    endpoint.sealedSecret = sealed.sealedSecret;
    endpoint.secretFingerprint = sealed.secretFingerprint;
    endpoint.signatureScheme = WebhookSignatureScheme.STANDARD;
    await em.flush();
    return { endpoint, secret };
  }

  /** Removes the endpoint with its delivery log, in one transaction. */
  async delete(em: Em, principal: AgentPrincipal, id: string): Promise<string> {
    await em.transactional(async (tx) => {
      const endpoint = await this.get(tx, principal, id);
      const deliveries = tx.createQueryBuilder(WebhookDelivery, "d").select("d.id").where({ endpoint: endpoint.id });
      await tx.createQueryBuilder(WebhookAttempt).delete({ delivery: { $in: deliveries.getKnexQuery() } }).execute();
      await tx.nativeDelete(WebhookDelivery, { endpoint: endpoint.id });
      await tx.nativeDelete(WebhookEndpoint, { id: endpoint.id });
    });
    return id;
  }

  /** The delivery log, newest first. `after` is the id of the last delivery of the previous page. */
  async deliveries(em: Em, principal: AgentPrincipal, filter: DeliveryFilter, first: number, after?: string): Promise<{ nodes: WebhookDelivery[]; hasNextPage: boolean }> {
    const where: FilterQuery<WebhookDelivery> = { endpoint: { agent: principal.agentId, mode: principal.mode } };
    if (filter.endpointId) where.endpoint = { id: filter.endpointId, agent: principal.agentId, mode: principal.mode };
    if (filter.taskId) where.task = filter.taskId;
    if (filter.status) where.status = filter.status;
    if (after) {
      const cursor = await this.delivery(em, principal, after).catch(() => {
        throw new ValidationError("after", "is not a delivery id returned by this API");
      });
      where.$or = [{ createdAt: { $lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $lt: cursor.id } }];
    }
    const rows = await em.find(WebhookDelivery, where, { orderBy: [{ createdAt: "desc" }, { id: "desc" }], limit: first + 1 });
    return { nodes: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async delivery(em: Em, principal: AgentPrincipal, id: string): Promise<WebhookDelivery> {
    const delivery = UUID.test(id)
      ? await em.findOne(WebhookDelivery, { id, endpoint: { agent: principal.agentId, mode: principal.mode } }, { populate: ["endpoint"] })
      : null;
    if (!delivery) throw new NotFoundError("webhook delivery", id);
    return delivery;
  }

  /** A delivery's attempts, oldest first; with `latest`, only that many of the newest. */
  async attempts(em: Em, deliveryId: string, latest?: number): Promise<WebhookAttempt[]> {
    if (latest === undefined) return em.find(WebhookAttempt, { delivery: deliveryId }, { orderBy: { id: "asc" } });
    return (await em.find(WebhookAttempt, { delivery: deliveryId }, { orderBy: { id: "desc" }, limit: latest })).reverse();
  }

  /** Sends a delivery again, now, under its original event id, with a fresh retry window. */
  async redeliver(em: Em, principal: AgentPrincipal, id: string): Promise<WebhookDelivery> {
    const delivery = await this.delivery(em, principal, id);
    if (delivery.endpoint.status !== WebhookEndpointStatus.ACTIVE) {
      throw new ConflictError("the endpoint is disabled; enable it with updateWebhookEndpoint(enabled: true) first");
    }
    const now = this.clock.now();
    // A lease is real time (claimLeases), whatever clock due times are judged by.
    if (delivery.status === WebhookDeliveryStatus.PENDING && (delivery.lockedUntil ?? 0) > systemClock.now()) {
      throw new ConflictError("an attempt of this delivery is in flight; try again when it has finished");
    }
    delivery.status = WebhookDeliveryStatus.PENDING;
    delivery.nextAttemptAt = now;
    delivery.retryUntil = now + this.config.webhooks.retryWindowMs;
    delivery.lockedUntil = undefined;
    await em.flush();
    this.signals.deliveriesDue();
    return delivery;
  }

  /** A task's callbackUrl/callbackSecret: checked before the posting transaction, stored inside it. */
  async prepare(request: TaskCallbackRequest, mode: Mode): Promise<((em: Em, task: Task) => void) | undefined> {
    if (request.callbackUrl === undefined || request.callbackUrl === null) {
      if (request.callbackSecret != null) throw new ValidationError("callbackSecret", "is only used with callbackUrl");
      return undefined;
    }
    const url = await this.checkedUrl(request.callbackUrl, mode, "callbackUrl");
    if (request.callbackSecret === undefined || request.callbackSecret === null) {
      throw new ValidationError("callbackSecret", "is required with callbackUrl: deliveries are signed with it");
    }
    // A secret in the Standard Webhooks form signs the standard way; any other text keeps the first release's (deprecated) scheme, so existing callers keep working.
    const signatureScheme = standardSecretKey(request.callbackSecret) ? WebhookSignatureScheme.STANDARD : WebhookSignatureScheme.LEGACY;
    const secret = legacySecretOf(request.callbackSecret, "callbackSecret")!;
    return (em, task) => {
      em.persist(
        new WebhookEndpoint({
          agent: task.agent,
          mode: task.mode,
          task,
          url,
          eventTypes: [TASK_STATUS_CHANGED, TASK_MESSAGE],
          description: "the task's callback_url",
          ...this.secrets.sealWithFingerprint(secret),
          signatureScheme,
        }),
      );
    };
  }

  private async checkedUrl(raw: string, mode: Mode, field: string): Promise<string> {
    const url = checkWebhookUrl(raw, this.policy(mode), field);
    await assertResolvesToAllowed(url, this.policy(mode), field);
    return url.toString();
  }

  private async findIdempotent(em: Em, principal: AgentPrincipal, key: string, hash: string): Promise<{ endpoint: WebhookEndpoint; secret: string } | null> {
    const existing = await em.findOne(WebhookEndpoint, { agent: principal.agentId, idempotencyKey: key });
    if (!existing) return null;
    if (existing.requestHash !== hash) throw new ConflictError("this idempotencyKey was already used with a different request");
    return { endpoint: existing, secret: this.secrets.open(existing.sealedSecret) };
  }
}
