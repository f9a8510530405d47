import { randomUUID } from "node:crypto";
import type { Em } from "../db/orm";
import type { Principal } from "../agents/api-key.service";
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from "../common/errors";
import type { Clock } from "../common/clock";
import { MESSAGE_LIMITS } from "../api/limits";
import { isTerminal, PhotoSize } from "../api/enums";
import { Operator } from "../operators/operator.entity";
import type { PhotoService, PhotoBytes, PhotoVariant } from "../photos/photo.service";
import { VARIANT_OF } from "../photos/photo.links";
import { photoKey } from "../photos/photo.store";
import type { PhotoUpload, ProofService } from "../proofs/proof.service";
import type { Task } from "../tasks/task.entity";
import type { TaskService } from "../tasks/task.service";
import { TaskEvent } from "../tasks/task-event.entity";
import { ActorType, TaskEventKind } from "../tasks/task.enums";
import { MessageAuthor, MessagePhoto, MessageThread, TaskMessage } from "./message.entity";

const DAY_MS = 86_400_000;
const MAX_PAGE = 100;

/** Where a message's photo is served: GET /api/v1/tasks/{task}/messages/{message}/photos/{n}. */
export function messagePhotoRoute(taskId: string, messageId: string, position: number, size: PhotoSize): string {
  return `/api/v1/tasks/${encodeURIComponent(taskId)}/messages/${encodeURIComponent(messageId)}/photos/${position}?size=${size}`;
}

/**
 * Per-task message threads between a task's agent and the operator holding
 * it. Only those two read a thread (anyone else gets NOT_FOUND, as for a
 * task they cannot see); a message needs an operator holding the task, and
 * the thread closes to new messages 7 days after the task ends.
 */
export class MessageService {
  constructor(
    private readonly tasks: TaskService,
    private readonly proofs: ProofService,
    private readonly photos: PhotoService,
    private readonly clock: Clock,
  ) {}

  /** The task, when the caller is its agent or the operator holding it. */
  async taskFor(em: Em, principal: Principal, taskId: string): Promise<Task> {
    const task = await this.tasks.find(em, taskId);
    if (principal.mode !== task.mode) throw new NotFoundError("task", taskId);
    if (principal.kind === "agent") {
      if (task.agent.id !== principal.agentId) throw new NotFoundError("task", taskId);
    } else if (task.operator?.id !== principal.operatorId) {
      throw new NotFoundError("task", taskId);
    }
    return task;
  }

  /** May `principal` read this message? Its task's agent, and the operator of its thread while holding the task. */
  static mayRead(principal: Principal | undefined, task: Task, message: TaskMessage): boolean {
    if (!principal || principal.mode !== task.mode) return false;
    if (principal.kind === "agent") return principal.agentId === task.agent.id;
    return principal.operatorId === message.operator.id && task.operator?.id === principal.operatorId;
  }

  /** When the thread stops taking messages: 7 days after the event that ended the task; null while it goes on. */
  async closesAt(em: Em, task: Task): Promise<Date | null> {
    if (!isTerminal(task.status)) return null;
    const ended = await em.findOne(TaskEvent, { task: task.id, kind: TaskEventKind.STATUS_CHANGED, toStatus: task.status }, { orderBy: { id: "desc" } });
    const at = ended?.createdAt ?? task.updatedAt;
    return new Date(at.getTime() + MESSAGE_LIMITS.openDaysAfterEnd * DAY_MS);
  }

  /** Why the caller may not write on this task now, or undefined when it may. */
  private async refusal(em: Em, task: Task): Promise<string | undefined> {
    if (!task.operator) return `no operator holds this task (it is ${task.status}): a thread opens when an operator accepts it`;
    const closesAt = await this.closesAt(em, task);
    if (closesAt && closesAt.getTime() <= this.clock.now()) return `the thread closed at ${closesAt.toISOString()}, 7 days after the task ended`;
    return undefined;
  }

  /** The messages the caller may read, oldest first, `first` at most, after the message `after`. */
  async thread(em: Em, principal: Principal, taskId: string, first: number, after?: string): Promise<MessageThread> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be from 1 to ${MAX_PAGE}`);
    const task = await this.taskFor(em, principal, taskId);
    const where: Record<string, unknown> = { task: task.id };
    if (principal.kind === "operator") where.operator = principal.operatorId;
    if (after != null) {
      const anchor = /^[0-9a-f-]{36}$/i.test(after) ? await em.findOne(TaskMessage, { ...where, id: after }) : null;
      if (!anchor) throw new ValidationError("after", "must be the id of a message in this thread");
      where.event = { $gt: anchor.event.id };
    }
    const rows = await em.find(TaskMessage, where, { orderBy: { event: "asc" }, limit: first + 1, populate: ["photos"] });
    const closesAt = await this.closesAt(em, task);
    return Object.assign(new MessageThread(), {
      taskId: task.id,
      messages: rows.slice(0, first),
      hasMore: rows.length > first,
      canSend: !(await this.refusal(em, task)),
      closesAt,
    });
  }

  /** The caller's latest readable message on the task, for pollers watching for new ones. */
  async latest(em: Em, principal: Principal, task: Task): Promise<TaskMessage | null> {
    const where: Record<string, unknown> = { task: task.id };
    if (principal.kind === "operator") {
      if (task.operator?.id !== principal.operatorId) return null;
      where.operator = principal.operatorId;
    }
    return em.findOne(TaskMessage, where, { orderBy: { event: "desc" } });
  }

  /**
   * Writes a message from the task's agent or the operator holding it, with
   * its MESSAGE_POSTED event, in one transaction. Photos are checked as
   * proof photos are (type by their bytes, size, decode budget) and stored
   * before the transaction; a message that then fails removes them.
   */
  async send(em: Em, principal: Principal, taskId: string, text: string | null | undefined, photos: PhotoUpload[]): Promise<TaskMessage> {
    const body = text?.trim() || null;
    if (body && body.length > MESSAGE_LIMITS.textChars) throw new ValidationError("text", `must be at most ${MESSAGE_LIMITS.textChars} characters (got ${body.length})`);
    if (photos.length > MESSAGE_LIMITS.photos) throw new LimitExceededError(`photos: at most ${MESSAGE_LIMITS.photos} photos per message (got ${photos.length})`, "photos");
    if (!body && photos.length === 0) throw new ValidationError("text", "a message needs text or at least one photo");
    const checked = photos.length ? await this.proofs.validatePhotos(photos) : [];
    // Refused before storing anything when the caller cannot write here (checked again in the transaction).
    await this.assertCanSend(em, await this.taskFor(em, principal, taskId));
    const ids = checked.map(() => randomUUID());
    try {
      const { digests, facts } = await this.photos.saveAll(em, ids, checked);
      let message!: TaskMessage;
      await this.tasks.command(em, taskId, async (tx, task) => {
        await this.assertCanSend(tx, task);
        const count = await tx.count(TaskMessage, { task: task.id });
        if (count >= MESSAGE_LIMITS.perTask) throw new LimitExceededError(`this task's threads hold at most ${MESSAGE_LIMITS.perTask} messages`, "text");
        const author = principal.kind === "agent" ? MessageAuthor.AGENT : MessageAuthor.OPERATOR;
        const actor = principal.kind === "agent" ? { type: ActorType.AGENT, id: principal.agentId } : { type: ActorType.OPERATOR, id: principal.operatorId };
        // The event carries no text: the log is read more widely than the thread.
        const event = new TaskEvent(task, task.status, task.status, actor, `message from the ${author === MessageAuthor.AGENT ? "agent" : "operator"}`, TaskEventKind.MESSAGE_POSTED);
        tx.persist(event);
        message = new TaskMessage(task, tx.getReference(Operator, task.operator!.id), author, body, event);
        checked.forEach((photo, position) => {
          const row = new MessagePhoto(message, position, photo.format, photo.size, digests[position]);
          row.id = ids[position];
          Object.assign(row, { hasCopies: facts[position].hasCopies, width: facts[position].width, height: facts[position].height });
          message.photos.add(row);
        });
        tx.persist(message);
      });
      return message;
    } catch (err) {
      await this.photos.discard(em, ids);
      throw err;
    }
  }

  private async assertCanSend(em: Em, task: Task): Promise<void> {
    const refused = await this.refusal(em, task);
    if (refused) throw new ConflictError(refused, { status: task.status });
  }

  /** A message photo for a caller who may read the message, or one holding a verified signed URL; NOT_FOUND otherwise. */
  async findPhoto(em: Em, viewer: { principal?: Principal; signed?: boolean }, taskId: string, messageId: string, position: number): Promise<MessagePhoto> {
    const missing = new NotFoundError("photo", `${position} of message ${messageId} of task ${taskId}`);
    const ids = /^[0-9a-f-]{36}$/i;
    if (!ids.test(taskId) || !ids.test(messageId)) throw missing;
    const message = await em.findOne(TaskMessage, { id: messageId, task: taskId }, { populate: ["task"] });
    if (!message || !(viewer.signed || MessageService.mayRead(viewer.principal, message.task, message))) throw missing;
    const photo = await em.findOne(MessagePhoto, { message, position });
    if (!photo) throw missing;
    return photo;
  }

  /** The bytes of one copy of a message photo; undefined when that copy does not exist (the photo did not decode). */
  async readPhoto(em: Em, photo: MessagePhoto, size: PhotoSize): Promise<PhotoBytes | undefined> {
    const variant: PhotoVariant = VARIANT_OF[size];
    if (variant !== "original" && !photo.hasCopies) return undefined;
    const data = await this.photos.store.get(em, photoKey(photo.id, variant));
    if (!data) throw new Error(`message photo ${photo.id}: the ${variant} is missing from the ${this.photos.store.kind} photo store`);
    return { data, contentType: variant === "original" ? photo.contentType : "image/jpeg" };
  }

  /** A signed URL of one size of a message photo (valid PHOTO_URL_TTL_SECONDS); null when that size does not exist. */
  url(taskId: string, photo: MessagePhoto, messageId: string, size: PhotoSize): string | null {
    if (size !== PhotoSize.ORIGINAL && !photo.hasCopies) return null;
    return this.photos.links.signedRoute(messagePhotoRoute(taskId, messageId, photo.position, size));
  }
}
