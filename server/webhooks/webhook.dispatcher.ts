import type { Em, Orm } from "../db/orm";
import { lockForUpdate } from "../db/dialect";
import type { Clock } from "../common/clock";
import type { Logger } from "../common/logger";
import { Task } from "../tasks/task.entity";
import { compareEventIds, maxEventId, readEvents, type LiveTaskEvent } from "../tasks/task-event.log";
import type { RelayAdvance } from "../events/event-relay";
import { EventCursor } from "../db/event-cursor.entity";
import { WebhookEndpoint, WebhookEndpointStatus } from "./webhook-endpoint.entity";
import { WebhookDelivery } from "./webhook-delivery.entity";
import { taskEventBody, wantsEvent, webhookEventId, type EvidenceReference, type MessageReference, type RatingReference, type VerificationReference } from "./webhook.events";
import { Rating, RatingBy } from "../reputation/rating.entity";
import { ActorType, TaskEventKind, TaskStatus } from "../tasks/task.enums";
import { MessageAuthor, TaskMessage } from "../messages/message.entity";
import { messagePhotoRoute } from "../messages/message.service";
import { Proof } from "../proofs/proof.entity";
import { Verification } from "../guardian/verification.entity";
import { PhotoSize, type PhotoLinks } from "../photos/photo.links";

/** The statuses a task reaches with proof in hand: their events carry it. */
const WITH_PROOF: ReadonlySet<TaskStatus> = new Set([TaskStatus.SUBMITTED, TaskStatus.MANUAL_REVIEW, TaskStatus.REJECTED, TaskStatus.VERIFIED, TaskStatus.PAID, TaskStatus.DISPUTED]);
/** The statuses a task reaches only after the Guardian scored its proof: their events carry the verification too. */
const WITH_VERIFICATION: ReadonlySet<TaskStatus> = new Set([TaskStatus.MANUAL_REVIEW, TaskStatus.REJECTED, TaskStatus.VERIFIED, TaskStatus.PAID, TaskStatus.DISPUTED]);

export const WEBHOOK_CURSOR = "webhooks";
const BATCH = 500;
/**
 * How often the cursor is written when the events looked at called for no
 * delivery (usually none of their agents has an endpoint). In between it is
 * kept in memory; a restart looks at those events again, which writes
 * nothing twice: a range that had deliveries moved the cursor past it in the
 * deliveries' own transaction.
 */
const IDLE_SAVE_MS = 1_000;

/**
 * Turns task events into webhook deliveries. The outbox is the task event
 * log itself: every transition's TaskEvent commits in the transition's own
 * transaction, and this dispatcher writes the deliveries for a batch of
 * events together with its durable cursor, in one transaction. So a
 * transition that committed always gets its deliveries (after a crash, from
 * the cursor on), and a rolled-back one never does. Keeping this out of the
 * transition keeps every task command free of endpoint lookups.
 *
 * It only goes as far as the relay's position, where every earlier event id
 * is settled (see EventRelay on gaps), and takes the events the relay
 * published rather than reading them again (it reads the log itself only
 * where it has not been handed them: at start, after a batch cut short).
 * Events whose agents have no endpoint cost one lookup and no transaction.
 * Replicas share the cursor row under a row lock, so each event is
 * dispatched once.
 */
export class WebhookDispatcher {
  private target = "0";
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** What the relay published and this dispatcher has not looked at yet, in order. */
  private handed: RelayAdvance[] = [];
  /** Every event up to here has been looked at by this process (read from the cursor at the first pass). */
  private scanned?: string;
  /** The cursor as this process last read or wrote it. */
  private saved = "0";
  private savedAt = 0;
  private saveTimer?: NodeJS.Timeout;

  constructor(
    private readonly orm: Orm,
    private readonly retryWindowMs: number,
    private readonly log: Logger,
    private readonly onDeliveriesWritten: () => void,
    private readonly links: PhotoLinks,
    /** The clock the sender judges retries by: a delivery is due from its now. */
    private readonly clock: Clock,
  ) {}

  /** Where the durable cursor stands: every event up to it has its deliveries. */
  async position(): Promise<string> {
    const cursor = await this.orm.em.fork().findOneOrFail(EventCursor, { name: WEBHOOK_CURSOR });
    return String(cursor.position);
  }

  /** The relay moved: its events are dispatched in the background. */
  relayed(advance: RelayAdvance): void {
    if (this.stopped) return;
    this.handed.push(advance);
    this.advanceTo(advance.to);
  }

  /** Dispatches up to `position` (the relay's settled position), in the background. */
  advanceTo(position: string): void {
    if (this.stopped) return;
    this.target = maxEventId(this.target, position);
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain();
  }

  /** Takes no new work, waits for the dispatch in progress and writes where it got; what is left is picked up from the cursor at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.saveTimer);
    while (this.running) await this.running;
    await this.saveScanned(true).catch((err: unknown) => this.log.error({ err }, "writing the webhook cursor failed"));
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.dispatchBatch(this.target)));
      } while (this.again && !this.stopped);
      await this.saveScanned(false);
    } catch (err) {
      this.log.error({ err }, "writing webhook deliveries failed; the next event retries");
      // Looked at again from the durable cursor.
      this.scanned = undefined;
      this.handed = [];
    } finally {
      this.running = undefined;
    }
  }

  /** One batch; true when more events may be waiting. */
  private async dispatchBatch(upTo: string): Promise<boolean> {
    if (this.scanned === undefined) {
      this.scanned = this.saved = await this.position();
      this.savedAt = Date.now();
    }
    const from = this.scanned;
    if (compareEventIds(from, upTo) >= 0) return false;
    const batch = this.takeHanded(from, upTo) ?? (await this.read(from, upTo));
    const served = await this.served(batch.events);
    if (served) await this.dispatch(batch);
    this.scanned = batch.to;
    return compareEventIds(batch.to, upTo) < 0;
  }

  /**
   * Has any agent of these events an active endpoint? The relay reads that
   * with the events it hands over (as it read them, after they committed);
   * for events read here, or handed without it, the endpoints are looked up.
   */
  private async served(events: LiveTaskEvent[]): Promise<boolean> {
    if (events.length === 0) return false;
    if (events.every((event) => event.served !== undefined)) return events.some((event) => event.served);
    const agentIds = [...new Set(events.map((event) => event.agentId))];
    return (await this.orm.em.fork().count(WebhookEndpoint, { agent: { $in: agentIds }, status: WebhookEndpointStatus.ACTIVE })) > 0;
  }

  /** The events after `from` the relay handed over, as far as they run on without a break (up to `upTo`); undefined when they do not start at `from`. */
  private takeHanded(from: string, upTo: string): { events: LiveTaskEvent[]; to: string } | undefined {
    this.handed = this.handed.filter((advance) => compareEventIds(advance.to, from) > 0);
    if (this.handed[0]?.from !== from) return undefined;
    const events: LiveTaskEvent[] = [];
    let to = from;
    while (this.handed.length && this.handed[0].from === to && compareEventIds(this.handed[0].to, upTo) <= 0 && events.length < BATCH) {
      const advance = this.handed.shift()!;
      events.push(...advance.events);
      to = advance.to;
    }
    return to === from ? undefined : { events, to };
  }

  private async read(from: string, upTo: string): Promise<{ events: LiveTaskEvent[]; to: string }> {
    const events = await readEvents(this.orm.em.fork(), { id: { $gt: from, $lte: upTo } }, BATCH, true);
    return { events, to: events.length === BATCH ? events[events.length - 1].id : upTo };
  }

  /** Writes the deliveries of events some agent of which has an endpoint, and the cursor, in one transaction under the cursor's lock. */
  private async dispatch(batch: { events: LiveTaskEvent[]; to: string }): Promise<void> {
    let written = 0;
    await this.orm.em.fork().transactional(async (tx) => {
      const cursor = await tx.findOneOrFail(EventCursor, { name: WEBHOOK_CURSOR }, lockForUpdate(tx));
      const at = String(cursor.position);
      // Another replica dispatched (part of) them already.
      if (compareEventIds(at, batch.to) >= 0) return;
      written = await this.writeDeliveries(
        tx,
        batch.events.filter((event) => compareEventIds(event.id, at) > 0),
      );
      cursor.position = batch.to;
    });
    this.saved = maxEventId(this.saved, batch.to);
    this.savedAt = Date.now();
    if (written > 0) this.onDeliveriesWritten();
  }

  /** Writes the cursor where this process has looked up to, at most every IDLE_SAVE_MS unless `now` (a later write is scheduled). */
  private async saveScanned(now: boolean): Promise<void> {
    const scanned = this.scanned;
    if (scanned === undefined || compareEventIds(scanned, this.saved) <= 0) return;
    const wait = this.savedAt + IDLE_SAVE_MS - Date.now();
    if (!now && wait > 0) {
      if (!this.saveTimer) {
        this.saveTimer = setTimeout(() => {
          this.saveTimer = undefined;
          if (!this.running && !this.stopped) this.running = this.drain();
        }, wait);
        this.saveTimer.unref();
      }
      return;
    }
    // Only forward: a replica that got further keeps its position.
    await this.orm.em.fork().nativeUpdate(EventCursor, { name: WEBHOOK_CURSOR, position: { $lt: scanned } }, { position: scanned, updatedAt: new Date() });
    this.saved = scanned;
    this.savedAt = Date.now();
  }

  private async writeDeliveries(em: Em, events: LiveTaskEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const agentIds = [...new Set(events.map((event) => event.agentId))];
    const endpoints = await em.find(WebhookEndpoint, { agent: { $in: agentIds }, status: WebhookEndpointStatus.ACTIVE });
    // No agent of these events has an endpoint (the common case): no proof or verification to read.
    if (endpoints.length === 0) return 0;
    const now = this.clock.now();
    const served = new Set(endpoints.map((endpoint) => endpoint.agent.id));
    const evidence = await this.evidenceFor(
      em,
      events.filter((event) => served.has(event.agentId)),
    );
    const messages = await this.messagesFor(em, events.filter((event) => served.has(event.agentId)));
    const ratings = await this.ratingsFor(em, events.filter((event) => served.has(event.agentId)));
    let written = 0;
    for (const event of events) {
      // A message event is delivered to the agent only when the operator wrote it, with the message.
      if (event.kind === TaskEventKind.MESSAGE_POSTED && !messages.has(event.id)) continue;
      // A rating event only when the operator rated the agent, with the rating: the agent's own rating is not sent back to it.
      if (event.kind === TaskEventKind.RATED && !ratings.has(event.id)) continue;
      const { type, body } = taskEventBody({ ...event, eventId: event.id, occurredAt: event.createdAt }, evidence(event), messages.get(event.id), ratings.get(event.id));
      for (const endpoint of endpoints) {
        if (!this.receives(endpoint, event, type)) continue;
        em.persist(new WebhookDelivery(endpoint, webhookEventId(event.id), type, body, now, this.retryWindowMs, em.getReference(Task, event.taskId)));
        written += 1;
      }
    }
    return written;
  }

  /**
   * For each status change from SUBMITTED on: the task's latest proof
   * submitted by then, its photos by their stable routes (a payload is
   * stored and retried verbatim for a day, so it carries no expiring URL),
   * and from the Guardian's decision on, that proof's verification.
   */
  private async evidenceFor(em: Em, events: LiveTaskEvent[]): Promise<(event: LiveTaskEvent) => EvidenceReference | undefined> {
    const about = (event: LiveTaskEvent) => event.kind === TaskEventKind.STATUS_CHANGED && WITH_PROOF.has(event.toStatus);
    const taskIds = [...new Set(events.filter(about).map((event) => event.taskId))];
    const proofs = taskIds.length ? await em.find(Proof, { task: { $in: taskIds } }, { populate: ["photos"], orderBy: { attempt: "desc" } }) : [];
    const verifications = proofs.length ? await em.find(Verification, { proof: { $in: proofs.map((p) => p.id) } }) : [];
    const verificationOf = new Map(verifications.map((v) => [v.proof.id, v]));
    return (event) => {
      if (!about(event)) return undefined;
      const proof = proofs.find((p) => p.task.id === event.taskId && p.createdAt <= event.createdAt);
      if (!proof) return undefined;
      const photos = proof.photos
        .getItems()
        .sort((a, b) => a.position - b.position)
        .map((photo) => {
          const address = { taskId: event.taskId, attempt: proof.attempt, position: photo.position };
          return photoReference(photo, (size) => this.links.stable(address, size), { taken_at: photo.takenAt?.toISOString() ?? null });
        });
      const evidence: EvidenceReference = { proof: { attempt: proof.attempt, submitted_at: proof.createdAt.toISOString(), photos } };
      if (WITH_VERIFICATION.has(event.toStatus)) evidence.verification = present(verificationOf.get(proof.id));
      return evidence;
    };
  }

  /** The operators' messages among these events, by event id, with their photos by their stable routes. */
  private async messagesFor(em: Em, events: LiveTaskEvent[]): Promise<Map<string, MessageReference>> {
    const ids = events.filter((event) => event.kind === TaskEventKind.MESSAGE_POSTED && event.actorType === ActorType.OPERATOR).map((event) => event.id);
    if (ids.length === 0) return new Map();
    const rows = await em.find(TaskMessage, { event: { $in: ids }, author: MessageAuthor.OPERATOR }, { populate: ["photos"] });
    return new Map(
      rows.map((message) => {
        const photos = message.photos
          .getItems()
          .sort((a, b) => a.position - b.position)
          .map((photo) => photoReference(photo, (size) => this.links.stableRoute(messagePhotoRoute(message.task.id, message.id, photo.position, size))));
        const reference: MessageReference = {
          id: message.id,
          author: message.author,
          untrusted: true,
          text: message.text ?? null,
          operator_id: message.operator.id,
          created_at: message.createdAt.toISOString(),
          photos,
        };
        return [String(message.event.id), reference];
      }),
    );
  }

  /** The operator's ratings of the agent behind the operators' RATED events among these, by event id, as they stand now. */
  private async ratingsFor(em: Em, events: LiveTaskEvent[]): Promise<Map<string, RatingReference>> {
    const rated = events.filter((event) => event.kind === TaskEventKind.RATED && event.actorType === ActorType.OPERATOR);
    if (rated.length === 0) return new Map();
    const rows = await em.find(Rating, { task: { $in: [...new Set(rated.map((event) => event.taskId))] }, ratedBy: RatingBy.OPERATOR });
    const byTask = new Map(rows.map((rating) => [rating.task.id, rating]));
    const references = new Map<string, RatingReference>();
    for (const event of rated) {
      const rating = byTask.get(event.taskId);
      if (!rating) continue;
      references.set(event.id, {
        rated_by: RatingBy.OPERATOR,
        score: rating.score,
        comment: rating.comment ?? null,
        untrusted: true,
        operator_id: rating.operator.id,
        created_at: rating.createdAt.toISOString(),
        editable_until: rating.editableUntil.toISOString(),
      });
    }
    return references;
  }

  /**
   * A task's own callback gets all of that task's events; an agent's
   * endpoint gets the events of its agent and mode that it subscribed to and
   * that happened after it was created.
   */
  private receives(endpoint: WebhookEndpoint, event: LiveTaskEvent, type: string): boolean {
    if (endpoint.agent.id !== event.agentId || endpoint.mode !== event.mode || !wantsEvent(endpoint.eventTypes, type)) return false;
    return endpoint.task ? endpoint.task.id === event.taskId : endpoint.createdAt <= event.createdAt;
  }
}

function present(verification: Verification | undefined): VerificationReference | null {
  if (!verification) return null;
  return {
    score: verification.score,
    verdict: verification.verdict,
    reasons: verification.reasons,
    checks: verification.checks.map((c) => ({ name: c.name, outcome: c.outcome, detail: c.detail, photo: c.photo ?? null })),
    scored_at: verification.createdAt.toISOString(),
  };
}

/** A photo as a webhook names it: its facts, then its stable routes (the copies only where they were made). */
function photoReference<More extends Record<string, unknown> = Record<never, never>>(
  photo: { position: number; contentType: string; byteSize: number; sha256: string; width?: number | null; height?: number | null; hasCopies: boolean },
  route: (size: PhotoSize) => string,
  more: More = {} as More,
) {
  return {
    position: photo.position,
    content_type: photo.contentType,
    byte_size: photo.byteSize,
    sha256: photo.sha256,
    width: photo.width ?? null,
    height: photo.height ?? null,
    ...more,
    url: route(PhotoSize.ORIGINAL),
    display_url: photo.hasCopies ? route(PhotoSize.DISPLAY) : null,
    thumbnail_url: photo.hasCopies ? route(PhotoSize.THUMBNAIL) : null,
  };
}
