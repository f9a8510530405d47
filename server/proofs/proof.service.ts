import { createHash } from "node:crypto";
import type { Em } from "../db/orm";
import type { Config } from "../config";
import { DomainError, ValidationError } from "../common/errors";
import { Operator } from "../operators/operator.entity";
import { enqueue } from "../jobs/job.queue";
import { sniffImageFormat } from "../guardian/image";
import type { Task } from "../tasks/task.entity";
import { ActorType, TaskStatus } from "../tasks/task.enums";
import { transition } from "../tasks/task.transition";
import type { OperatorPrincipal, TaskService } from "../tasks/task.service";
import { LIMITS } from "../tasks/task.validation";
import { Proof, ProofPhoto } from "./proof.entity";

export const ProofJobs = { score: "guardian.score" } as const;

export interface PhotoUpload {
  data: Buffer;
  /** What the client said; the stored type is the one the bytes show. */
  contentType?: string;
  filename?: string;
}

/** Proof submission: the operator's photos and notes for one attempt. */
export class ProofService {
  constructor(
    private readonly config: Config,
    private readonly tasks: TaskService,
  ) {}

  validatePhotos(photos: PhotoUpload[]): Array<PhotoUpload & { format: string }> {
    if (!Array.isArray(photos) || photos.length === 0) throw new ValidationError("photos", "at least one photo is required");
    if (photos.length > this.config.limits.photosPerProof) {
      throw new ValidationError("photos", `at most ${this.config.limits.photosPerProof} photos per submission`);
    }
    return photos.map((photo, i) => {
      if (photo.data.length === 0) throw new ValidationError(`photos[${i}]`, "is empty");
      if (photo.data.length > this.config.limits.photoBytes) {
        throw new DomainError("PAYLOAD_TOO_LARGE", `photos[${i}]: must be at most ${this.config.limits.photoBytes} bytes (got ${photo.data.length})`, `photos[${i}]`);
      }
      const format = sniffImageFormat(photo.data);
      if (!format) {
        throw new DomainError("UNSUPPORTED_MEDIA_TYPE", `photos[${i}]: must be a JPEG or PNG image`, `photos[${i}]`);
      }
      return { ...photo, format };
    });
  }

  async submit(em: Em, principal: OperatorPrincipal, taskId: string, photos: PhotoUpload[], notes?: string | null): Promise<Task> {
    const checked = this.validatePhotos(photos);
    const trimmedNotes = notes?.trim() || undefined;
    if (trimmedNotes && trimmedNotes.length > LIMITS.notesChars) {
      throw new ValidationError("notes", `must be at most ${LIMITS.notesChars} characters (got ${trimmedNotes.length})`);
    }
    return this.tasks.command(em, taskId, async (tx, task) => {
      this.tasks.assertCanSubmit(task, principal);
      const operator = tx.getReference(Operator, principal.operatorId);
      task.attempts += 1;
      const proof = new Proof(task, operator, task.attempts, trimmedNotes);
      checked.forEach((photo, position) => {
        const sha256 = createHash("sha256").update(photo.data).digest("hex");
        proof.photos.add(new ProofPhoto(proof, position, photo.format, photo.data, sha256));
      });
      tx.persist(proof);
      transition(tx, task, TaskStatus.SUBMITTED, { type: ActorType.OPERATOR, id: operator.id }, `proof attempt ${task.attempts} of ${task.maxAttempts}`);
      enqueue(tx, ProofJobs.score, { proofId: proof.id }, { dedupeKey: `score:${proof.id}` });
    });
  }
}
