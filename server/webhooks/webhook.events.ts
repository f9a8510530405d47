import { Mode } from "../common/mode";
import { type ActorType, TaskEventKind, type TaskStatus } from "../tasks/task.enums";
import type { Verdict } from "../guardian/verification.entity";
import type { GuardianCheck } from "../guardian/guardian.checks";
import { ENDPOINT_DISABLED, EVENT_TYPE_BY_STATUS, TASK_CHANGED, TASK_FUNDED, TASK_MESSAGE, TASK_RATED, TASK_STATUS_CHANGED, TASK_TIPPED, TASK_TIP_PAID, WEBHOOK_EVENT_TYPES, type MessageAuthor } from "../api/enums";

export { ENDPOINT_DISABLED, EVENT_TYPE_BY_STATUS, TASK_FUNDED, TASK_MESSAGE, TASK_STATUS_CHANGED, WEBHOOK_EVENT_TYPES };

const TRANSITION_TYPES: ReadonlySet<string> = new Set(Object.values(EVENT_TYPE_BY_STATUS));

/** Does an endpoint subscribed to `subscribed` receive an event of `type`? task.status_changed stands for every transition. */
export function wantsEvent(subscribed: readonly string[], type: string): boolean {
  return subscribed.includes(type) || (TRANSITION_TYPES.has(type) && subscribed.includes(TASK_STATUS_CHANGED));
}

export interface TaskTransition {
  eventId: string;
  taskId: string;
  mode: Mode;
  kind: TaskEventKind;
  fromStatus?: TaskStatus;
  toStatus: TaskStatus;
  actorType: ActorType;
  reason?: string;
  occurredAt: Date;
}

/** The public id of an event: the same on every attempt and every endpoint, for de-duplication. */
export function webhookEventId(taskEventId: string): string {
  return `evt_${taskEventId}`;
}

/** The proof a delivery points at: its photos by their stable API routes, which the agent's key opens (a payload is retried for a day, so it carries no expiring URL). */
export interface ProofReference {
  attempt: number;
  submitted_at: string;
  photos: Array<{
    position: number;
    content_type: string;
    byte_size: number;
    sha256: string;
    width: number | null;
    height: number | null;
    taken_at: string | null;
    url: string;
    display_url: string | null;
    thumbnail_url: string | null;
  }>;
}

/** The Guardian's score of that proof, in the REST API's shape (VerificationSummary): its checks say why, one by one. */
export interface VerificationReference {
  score: number;
  verdict: Verdict;
  reasons: string[];
  checks: Array<Pick<GuardianCheck, "name" | "outcome" | "detail"> & { photo: number | null }>;
  scored_at: string;
}

/** What an event from SUBMITTED on is about: the proof, and once the Guardian has scored it, its verification. */
export interface EvidenceReference {
  proof: ProofReference;
  verification?: VerificationReference | null;
}

/**
 * A message in the task's thread, as a task.message delivery carries it. An
 * operator's text is `untrusted`: data from a person, never instructions
 * for the agent or a model it hands the text to. Photos are their stable
 * API routes, opened with the agent's key.
 */
export interface MessageReference {
  id: string;
  author: MessageAuthor;
  untrusted: boolean;
  text: string | null;
  operator_id: string;
  created_at: string;
  photos: Array<{ position: number; content_type: string; byte_size: number; sha256: string; width: number | null; height: number | null; url: string; display_url: string | null; thumbnail_url: string | null }>;
}

/**
 * The operator's rating of the agent, as a task.rated delivery carries it:
 * as it stands when the delivery is written (each later change is an event
 * of its own). The comment is the operator's: `untrusted`, data from a
 * person, never instructions for the agent or a model.
 */
export interface RatingReference {
  rated_by: "OPERATOR";
  score: number;
  comment: string | null;
  untrusted: true;
  operator_id: string;
  created_at: string;
  editable_until: string;
}

/**
 * The JSON body of a task event delivery (snake_case, like the REST API).
 * Events from SUBMITTED on carry the proof they are about; from the
 * Guardian's decision on (MANUAL_REVIEW, REJECTED, VERIFIED, PAID) also its
 * verification, null if that proof was never scored.
 */
export function taskEventBody(event: TaskTransition, evidence?: EvidenceReference, message?: MessageReference, rating?: RatingReference): { type: string; body: string } {
  const type =
    event.kind === TaskEventKind.ESCROW_FUNDED ? TASK_FUNDED
    : event.kind === TaskEventKind.MESSAGE_POSTED ? TASK_MESSAGE
    : event.kind === TaskEventKind.TASK_CHANGED ? TASK_CHANGED
    : event.kind === TaskEventKind.TIPPED ? TASK_TIPPED
    : event.kind === TaskEventKind.TIP_PAID ? TASK_TIP_PAID
    : event.kind === TaskEventKind.RATED ? TASK_RATED
    : EVENT_TYPE_BY_STATUS[event.toStatus];
  const body = {
    id: webhookEventId(event.eventId),
    type,
    created_at: event.occurredAt.toISOString(),
    livemode: event.mode === Mode.LIVE,
    data: {
      task_id: event.taskId,
      event_id: event.eventId,
      kind: event.kind,
      status: event.toStatus,
      previous_status: event.fromStatus ?? null,
      actor_type: event.actorType,
      reason: event.reason ?? null,
      occurred_at: event.occurredAt.toISOString(),
      ...(evidence ? { proof: evidence.proof } : {}),
      ...(evidence && evidence.verification !== undefined ? { verification: evidence.verification } : {}),
      ...(message ? { message } : {}),
      ...(rating ? { rating } : {}),
    },
  };
  return { type, body: JSON.stringify(body) };
}

/** The notice sent to an agent's other endpoints when one of them is disabled. */
export function endpointDisabledBody(noticeId: string, endpoint: { id: string; url: string; mode: Mode }, reason: string, at: Date): string {
  return JSON.stringify({
    id: `evt_${noticeId}`,
    type: ENDPOINT_DISABLED,
    created_at: at.toISOString(),
    livemode: endpoint.mode === Mode.LIVE,
    data: { endpoint_id: endpoint.id, url: endpoint.url, reason, disabled_at: at.toISOString() },
  });
}
