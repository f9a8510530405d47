import { randomUUID } from "node:crypto";
import type { Em } from "../db/orm";
import type { Config } from "../config";
import { DomainError, ValidationError } from "../common/errors";
import { Operator } from "../operators/operator.entity";
import { enqueue } from "../jobs/job.queue";
import { ACCEPTED_PHOTO_TYPES, readPhotoHeader, sniffPhotoFormat, type PhotoFormat } from "../photos/photo.decoder";
import type { Decoded, PhotoService } from "../photos/photo.service";
import type { Task } from "../tasks/task.entity";
import { ActorType, TaskStatus } from "../tasks/task.enums";
import { transition } from "../tasks/task.transition";
import type { OperatorPrincipal, TaskService } from "../tasks/task.service";
import { LIMITS } from "../tasks/task.validation";
import { Proof, ProofPhoto } from "./proof.entity";
import { JobKinds } from "../jobs/job.kinds";

export const ProofJobs = JobKinds.guardian;

export interface PhotoUpload {
  /** The photo's bytes, or the photo store's temporary file they were written to as they arrived (a multipart upload to the directory store). */
  data: Buffer | SpooledPhoto;
  /** SHA-256 of the bytes, hex, when the reader hashed them as they arrived; else hashed on the thread pool when stored. */
  sha256?: string;
  /** What the client said; the stored type is the one the bytes show. */
  contentType?: string;
  filename?: string;
}

/** An upload written to a temporary file of the photo store (PhotoStore.spool), which saving it adopts. */
export interface SpooledPhoto {
  file: string;
  size: number;
  /** The file's first bytes, which show its type. */
  head: Buffer;
}

interface CheckedPhoto extends PhotoUpload {
  format: PhotoFormat;
  size: number;
}

/** The size of an upload's bytes. */
export const sizeOf = (data: Buffer | SpooledPhoto): number => (Buffer.isBuffer(data) ? data.length : data.size);

/** Photos checked and decoded before the submission's transaction (ProofService.preparePhotos). */
export interface PreparedPhotos {
  checked: CheckedPhoto[];
  decoded: Decoded[];
}

/** Proof submission: the operator's photos and notes for one attempt. */
export class ProofService {
  constructor(
    private readonly config: Config,
    private readonly tasks: TaskService,
    private readonly photos: PhotoService,
  ) {}

  /**
   * Checks the photos before anything is stored or decoded: their number,
   * sizes and types (by their bytes: JPEG, PNG or WebP; HEIC and anything
   * else are 415), and the proof's decode budget: the pixels all photos add
   * up to, read from their headers, so a few small files that claim huge
   * canvases cannot cost minutes of decoding.
   */
  async validatePhotos(photos: PhotoUpload[]): Promise<CheckedPhoto[]> {
    if (!Array.isArray(photos) || photos.length === 0) throw new ValidationError("photos", "at least one photo is required");
    if (photos.length > this.config.limits.photosPerProof) {
      throw new ValidationError("photos", `at most ${this.config.limits.photosPerProof} photos per submission`);
    }
    const checked = photos.map((photo, i) => {
      const size = sizeOf(photo.data);
      if (size === 0) throw new ValidationError(`photos[${i}]`, "is empty");
      if (size > this.config.limits.photoBytes) {
        throw new DomainError("PAYLOAD_TOO_LARGE", `photos[${i}]: must be at most ${this.config.limits.photoBytes} bytes (got ${size})`, `photos[${i}]`);
      }
      const format = sniffPhotoFormat(Buffer.isBuffer(photo.data) ? photo.data : photo.data.head);
      if (!format) {
        throw new DomainError("UNSUPPORTED_MEDIA_TYPE", `photos[${i}]: must be one of ${ACCEPTED_PHOTO_TYPES.join(", ")} (HEIC and other types are not accepted)`, `photos[${i}]`, {
          accepted: [...ACCEPTED_PHOTO_TYPES],
        });
      }
      return { ...photo, format, size };
    });
    const headers = await Promise.all(checked.map((photo) => readPhotoHeader(photo.data)));
    // A photo whose header does not read decodes to nothing; the Guardian scores it as undecodable.
    const pixels = headers.reduce((sum, header) => sum + (header ? header.width * header.height : 0), 0);
    const budget = this.config.photos.decodeBudgetMegapixels;
    if (pixels > budget * 1_000_000) {
      throw new DomainError(
        "PAYLOAD_TOO_LARGE",
        `photos: together they are ${(pixels / 1_000_000).toFixed(1)} megapixels, over the limit of ${budget} megapixels per proof (send smaller or fewer photos)`,
        "photos",
        { megapixels: Math.round(pixels / 1_000) / 1_000, limitMegapixels: budget },
      );
    }
    return checked;
  }

  /**
   * Checks and decodes photos for a later submit(): the CPU-heavy part of a
   * submission, for a caller that would otherwise do it inside a
   * transaction (the mock operator's job, whose transaction holds SQLite's
   * one connection while it runs). It only reads.
   */
  async preparePhotos(photos: PhotoUpload[]): Promise<PreparedPhotos> {
    const checked = await this.validatePhotos(photos);
    return { checked, decoded: await Promise.all(checked.map((photo) => this.photos.decode(photo.data))) };
  }

  async submit(em: Em, principal: OperatorPrincipal, taskId: string, photos: PhotoUpload[] | PreparedPhotos, notes?: string | null): Promise<Task> {
    const prepared = Array.isArray(photos) ? undefined : photos;
    const checked = prepared ? prepared.checked : await this.validatePhotos(photos as PhotoUpload[]);
    const trimmedNotes = notes?.trim() || undefined;
    if (trimmedNotes && trimmedNotes.length > LIMITS.notesChars) {
      throw new ValidationError("notes", `must be at most ${LIMITS.notesChars} characters (got ${trimmedNotes.length})`);
    }
    // Refused before any decoding or storing when the task cannot take proof from this operator now (checked again in the transaction).
    this.tasks.assertCanSubmit(await this.tasks.find(em, taskId), principal);
    // The bytes go to the photo store first, outside the transaction; a submission that then fails (or fails to store one) removes them.
    const ids = checked.map(() => randomUUID());
    try {
      const { digests, facts } = await this.photos.saveAll(em, ids, checked, prepared?.decoded);
      return await this.tasks.command(em, taskId, async (tx, task) => {
        this.tasks.assertCanSubmit(task, principal);
        const operator = tx.getReference(Operator, principal.operatorId);
        task.attempts += 1;
        const proof = new Proof(task, operator, task.attempts, trimmedNotes);
        checked.forEach((photo, position) => {
          const row = new ProofPhoto(proof, position, photo.format, photo.size, digests[position]).storedWith(facts[position]);
          row.id = ids[position];
          proof.photos.add(row);
        });
        tx.persist(proof);
        transition(tx, task, TaskStatus.SUBMITTED, { type: ActorType.OPERATOR, id: operator.id }, `proof attempt ${task.attempts} of ${task.maxAttempts}`);
        enqueue(tx, ProofJobs.score, { proofId: proof.id }, { dedupeKey: `score:${proof.id}` });
      });
    } catch (err) {
      await this.photos.discard(em, ids);
      throw err;
    }
  }
}
