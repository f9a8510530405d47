import type { Em } from "../db/orm";
import type { Principal } from "../agents/api-key.service";
import { NotFoundError } from "../common/errors";
import { Proof, ProofPhoto, type PhotoFacts } from "../proofs/proof.entity";
import type { Task } from "../tasks/task.entity";
import type { SpooledPhoto } from "../proofs/proof.service";
import { type PhotoSize, VARIANT_OF, type PhotoAddress, type PhotoLinks } from "./photo.links";
import { sha256Of, type PhotoCopies, type PhotoInput, type PhotoWork } from "./photo.decoder";
import { photoKey, type PhotoStore } from "./photo.store";

/** Which copy of a photo: the original as uploaded, the display copy (≤ 1600 px) or the thumbnail (≤ 320 px). */
export type PhotoVariant = "original" | "display" | "thumbnail";

export interface PhotoBytes {
  data: Buffer;
  contentType: string;
}

const VARIANTS: PhotoVariant[] = ["original", "display", "thumbnail"];

/** A photo decoded ahead of save(): its copies, or none when it does not decode. */
export interface Decoded {
  copies: PhotoCopies | undefined;
}

/**
 * Proof photos' bytes: a new upload goes to the store with its display copy
 * and thumbnail; reads come from the store, or from the row for a photo the
 * background move has not reached yet.
 */
export class PhotoService {
  constructor(
    readonly store: PhotoStore,
    private readonly decoder: PhotoWork,
    readonly links: PhotoLinks,
  ) {}

  /** Only the task's agent and the operator who submitted the proof see its photos. */
  static mayView(principal: Principal | undefined, task: Task, proof: Proof): boolean {
    if (!principal || principal.mode !== task.mode) return false;
    if (principal.kind === "agent") return principal.agentId === task.agent.id;
    return principal.operatorId === proof.operator.id;
  }

  /**
   * The photo at an address, for a caller who may see it (`principal`) or
   * who holds a verified signed URL (`signed`); anyone else gets NOT_FOUND,
   * as for a photo that does not exist.
   */
  async find(em: Em, viewer: { principal?: Principal; signed?: boolean }, address: PhotoAddress): Promise<ProofPhoto> {
    const missing = new NotFoundError("photo", `${address.position} of proof ${address.attempt} of task ${address.taskId}`);
    const proof = await em.findOne(Proof, { task: address.taskId, attempt: address.attempt }, { populate: ["task"] });
    if (!proof || !(viewer.signed || PhotoService.mayView(viewer.principal, proof.task, proof))) throw missing;
    const photo = await em.findOne(ProofPhoto, { proof, position: address.position });
    if (!photo) throw missing;
    return photo;
  }

  /** A short-lived URL of one size of a photo: presigned by the bucket when the store is S3, else a signed API URL. Null when that size does not exist. */
  async url(photo: ProofPhoto, address: PhotoAddress, size: PhotoSize): Promise<string | null> {
    const variant = VARIANT_OF[size];
    if (variant !== "original" && !photo.hasCopies) return null;
    return (await this.presign(photo, variant, this.links.ttlSeconds)) ?? this.links.signed(address, size);
  }

  /**
   * Writes a photo's original, exactly as given, and (when it decodes) its
   * copies; returns what decoding showed. The same id always writes the
   * same bytes, so doing it again after a crash is harmless. The original
   * is written first: in a store of local files the decoder then reads it
   * from there, so the server does not hand it the bytes. An upload spooled
   * to the store's temporary file (PhotoStore.spool) is renamed into place,
   * never read into memory.
   */
  async save(em: Em, photoId: string, data: Buffer | SpooledPhoto, contentType: string, decoded?: Decoded): Promise<PhotoFacts> {
    const original = photoKey(photoId, "original");
    if (Buffer.isBuffer(data)) await this.store.put(em, original, data, contentType);
    else if (this.store.adopt) await this.store.adopt(em, original, data.file);
    else throw new Error(`a spooled upload reached the ${this.store.kind} photo store, which does not spool`);
    const file = this.store.fileOf?.(original);
    const copies = decoded ? decoded.copies : await this.decoder.copies(file ? { file } : Buffer.isBuffer(data) ? data : { file: data.file });
    if (!copies) return { hasCopies: false };
    await Promise.all([
      this.store.put(em, photoKey(photoId, "display"), copies.display, "image/jpeg"),
      this.store.put(em, photoKey(photoId, "thumbnail"), copies.thumbnail, "image/jpeg"),
    ]);
    const { takenAt, latitude, longitude } = copies.capture;
    return { hasCopies: true, width: copies.width, height: copies.height, takenAt, latitude, longitude, hashes: copies.hashes };
  }

  /**
   * The window hashes of a stored photo, made from its original exactly as
   * save() makes an upload's (PhotoDecoder.hashes), so a photo hashed again
   * matches a later upload of the same bytes; undefined when it does not decode.
   */
  async hashes(em: Em, photo: ProofPhoto): Promise<string[] | undefined> {
    return this.decoder.hashes(await this.original(em, photo));
  }

  /**
   * A photo's original for a decoder: the path of its file when the store
   * keeps local files (the decoder reads it), else its bytes.
   */
  async original(em: Em, photo: ProofPhoto): Promise<PhotoInput> {
    if (photo.stored && this.store.fileOf) return { file: this.store.fileOf(photoKey(photo.id, "original")) };
    const original = await this.read(em, photo, "original");
    if (!original) throw new Error(`photo ${photo.id} has no original`);
    return original.data;
  }

  /** What save() decodes from a photo (its copies, capture facts and hashes), for a caller that decodes before it holds a transaction. */
  async decode(data: PhotoInput): Promise<Decoded> {
    return { copies: await this.decoder.copies(data) };
  }

  /**
   * Saves several photos of one submission side by side (save() each, under
   * `ids`), with each one's SHA-256: the hash taken as it arrived
   * (multipart), or taken now on the thread pool. Every save settles before
   * the first failure is thrown, so a caller's discard(ids) comes after the
   * last write.
   */
  async saveAll(
    em: Em,
    ids: string[],
    photos: Array<{ data: Buffer | SpooledPhoto; format: string; sha256?: string }>,
    decoded?: Decoded[],
  ): Promise<{ digests: string[]; facts: PhotoFacts[] }> {
    const digests = await Promise.all(photos.map((photo) => (photo.sha256 ? Promise.resolve(photo.sha256) : sha256Of(photo.data))));
    const saved = await Promise.allSettled(photos.map((photo, i) => this.save(em, ids[i], photo.data, photo.format, decoded?.[i])));
    const failed = saved.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return { digests, facts: saved.map((result) => (result as PromiseFulfilledResult<PhotoFacts>).value) };
  }

  /** Removes what save() wrote for photos whose submission did not commit. */
  async discard(em: Em, photoIds: string[]): Promise<void> {
    await this.store.delete(em, photoIds.flatMap((id) => VARIANTS.map((variant) => photoKey(id, variant))));
  }

  /** The bytes of one copy of a photo; undefined for a copy that does not exist (the photo did not decode, or is still to be moved). */
  async read(em: Em, photo: ProofPhoto, variant: PhotoVariant): Promise<PhotoBytes | undefined> {
    const contentType = variant === "original" ? photo.contentType : "image/jpeg";
    if (photo.stored) {
      if (variant !== "original" && !photo.hasCopies) return undefined;
      const data = await this.store.get(em, photoKey(photo.id, variant));
      if (!data) throw new Error(`photo ${photo.id}: the ${variant} is missing from the ${this.store.kind} photo store`);
      return { data, contentType };
    }
    if (variant !== "original") return undefined;
    const row = await em.findOneOrFail(ProofPhoto, photo.id, { populate: ["data"] });
    // The background move may have taken the bytes to the store since the row was read.
    return row.data ? { data: row.data, contentType } : this.read(em, row, variant);
  }

  /** A URL served by the store itself (presigned S3), when the store can serve one. */
  private presign(photo: ProofPhoto, variant: PhotoVariant, ttlSeconds: number): Promise<string> | undefined {
    if (!photo.stored || !this.store.presign || (variant !== "original" && !photo.hasCopies)) return undefined;
    return this.store.presign(photoKey(photo.id, variant), variant === "original" ? photo.contentType : "image/jpeg", ttlSeconds);
  }
}
