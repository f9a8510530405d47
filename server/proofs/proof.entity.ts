import { BlobType, Cascade, Collection, Entity, Index, ManyToOne, OneToMany, Property, Unique } from "@mikro-orm/core";
import { Field, Int, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Task } from "../tasks/task.entity";
import { Operator } from "../operators/operator.entity";
import { ProofPhotoHash } from "../photos/photo-hash.entity";
import { HASH_VERSION } from "../photos/photo.hash";

/** One proof submission: the photos and notes of one attempt at a task. */
@ObjectType()
@Entity({ tableName: "proofs" })
@Unique({ properties: ["task", "attempt"] })
export class Proof extends BaseEntity {
  @ManyToOne(() => Task)
  task: Task;

  @ManyToOne(() => Operator)
  operator: Operator;

  @Field(() => Int, { description: "1 for the first submission, 2 for the first resubmission, ..." })
  @Property({ type: "integer" })
  attempt: number;

  @Field(() => String, { nullable: true })
  @Property({ type: "text", nullable: true })
  notes?: string;

  @OneToMany(() => ProofPhoto, (photo) => photo.proof, { cascade: [Cascade.PERSIST], orderBy: { position: "asc" } })
  photos = new Collection<ProofPhoto>(this);

  constructor(task: Task, operator: Operator, attempt: number, notes?: string) {
    super();
    this.task = task;
    this.operator = operator;
    this.attempt = attempt;
    this.notes = notes;
  }
}

/** What the pipeline learned of a stored photo: its upright size and the camera's EXIF capture facts. */
export interface PhotoFacts {
  width?: number;
  height?: number;
  hasCopies: boolean;
  takenAt?: Date;
  latitude?: number;
  longitude?: number;
  /** The perceptual hashes of the photo's windows (server/photos/photo.hash.ts; the first is the whole frame's), when it decodes. */
  hashes?: string[];
}

/**
 * A photo of a proof. The bytes are exactly as uploaded (the evidence, EXIF
 * included) and live in the configured photo store with a display copy and
 * a thumbnail; photos from before the store kept their bytes in `data` until
 * the background move (server/photos/photo.jobs.ts) takes them there.
 */
@ObjectType({ description: "A photo of a proof, as uploaded, with a display copy and thumbnail (JPEG, no metadata)" })
@Entity({ tableName: "proof_photos" })
@Index({ properties: ["proof"] })
@Index({ properties: ["stored"] })
@Index({ properties: ["hashVersion"] })
export class ProofPhoto extends BaseEntity {
  @ManyToOne(() => Proof)
  proof: Proof;

  @Field(() => Int)
  @Property({ type: "integer" })
  position: number;

  @Field(() => String, { description: "The original's type, by what its bytes show: image/jpeg, image/png or image/webp" })
  @Property({ type: "string", length: 100 })
  contentType: string;

  @Field(() => Int, { description: "Size of the original in bytes" })
  @Property({ type: "integer" })
  byteSize: number;

  @Field(() => String, { description: "Hex SHA-256 of the original's bytes" })
  @Property({ type: "string", length: 64 })
  sha256: string;

  /** The bytes of a photo from before the photo store; null once moved there. */
  @Property({ type: BlobType, lazy: true, nullable: true })
  data?: Buffer | null;

  /** The original (and its copies, when it decoded) are in the photo store. */
  @Property({ type: "boolean", default: false })
  stored: boolean = false;

  /** A display copy and thumbnail were made (false for a photo that does not decode). */
  @Property({ type: "boolean", default: false })
  hasCopies: boolean = false;

  @Field(() => Int, { nullable: true, description: "Width in pixels, upright (EXIF orientation applied); null when the photo does not decode" })
  @Property({ type: "integer", nullable: true })
  width?: number;

  @Field(() => Int, { nullable: true, description: "Height in pixels, upright; null when the photo does not decode" })
  @Property({ type: "integer", nullable: true })
  height?: number;

  @Field(() => Date, { nullable: true, description: "When the camera says the photo was taken (EXIF DateTimeOriginal, moved to UTC by OffsetTimeOriginal when the camera wrote one, else read as UTC); null without EXIF" })
  @Property({ type: "Date", nullable: true })
  takenAt?: Date;

  /** EXIF GPS position, when the photo has one. */
  @Property({ type: "double", nullable: true })
  latitude?: number;

  @Property({ type: "double", nullable: true })
  longitude?: number;

  /** The 64-bit dHash of the whole photo as 16 hex digits; null when it does not decode (or was stored before hashing). */
  @Property({ type: "string", length: 16, nullable: true })
  dhash?: string;

  /** The method its hashes come from (HASH_VERSION in server/photos/photo.hash.ts); below the current one, the background re-hash has still to reach it. */
  @Property({ type: "smallint", default: 0 })
  hashVersion: number = 0;

  /** Every window's hash, with its indexed bands (the Guardian's reuse check). */
  @OneToMany(() => ProofPhotoHash, (hash) => hash.photo, { cascade: [Cascade.PERSIST] })
  windowHashes = new Collection<ProofPhotoHash>(this);

  constructor(proof: Proof, position: number, contentType: string, byteSize: number, sha256: string) {
    super();
    this.proof = proof;
    this.position = position;
    this.contentType = contentType;
    this.byteSize = byteSize;
    this.sha256 = sha256;
  }

  /** Records where the photo now lives and what decoding it showed (a photo moved from its row has its old hash rows deleted first, see hashedWith). */
  storedWith(facts: PhotoFacts): this {
    this.stored = true;
    this.data = null;
    const { hashes, ...rest } = facts;
    Object.assign(this, rest);
    return this.hashedWith(hashes);
  }

  /**
   * Adds the hash of each window and marks the photo hashed by the current
   * method. When there are hashes, the photo's earlier hash rows must be gone
   * already (the caller deletes them in the same transaction); a photo that
   * does not decode (no hashes) keeps whatever it had.
   */
  hashedWith(hashes: string[] | undefined): this {
    if (hashes?.length) {
      this.dhash = hashes[0];
      hashes.forEach((hash, window) => this.windowHashes.add(new ProofPhotoHash(this, window, hash)));
    }
    this.hashVersion = HASH_VERSION;
    return this;
  }
}
