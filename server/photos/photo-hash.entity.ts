import { Entity, Index, ManyToOne, PrimaryKey, Property } from "@mikro-orm/core";
import { ProofPhoto } from "../proofs/proof.entity";
import { hashBands } from "./photo.hash";

/**
 * One window's dHash of a proof photo (server/photos/photo.hash.ts,
 * HASH_WINDOWS; window 0 is the whole frame), with its four 16-bit bands,
 * each indexed: the reuse check finds earlier photos a hash is near by
 * equality on a band (two hashes within NEAR_DUPLICATE_BITS share one),
 * never by reading every photo.
 */
@Entity({ tableName: "proof_photo_hashes" })
@Index({ properties: ["photo"] })
@Index({ properties: ["band0"] })
@Index({ properties: ["band1"] })
@Index({ properties: ["band2"] })
@Index({ properties: ["band3"] })
export class ProofPhotoHash {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @ManyToOne(() => ProofPhoto, { deleteRule: "cascade" })
  photo: ProofPhoto;

  /** Its position in HASH_WINDOWS. */
  @Property({ type: "smallint" })
  window: number;

  @Property({ type: "string", length: 16 })
  hash: string;

  @Property({ type: "integer" })
  band0: number;

  @Property({ type: "integer" })
  band1: number;

  @Property({ type: "integer" })
  band2: number;

  @Property({ type: "integer" })
  band3: number;

  constructor(photo: ProofPhoto, window: number, hash: string) {
    this.photo = photo;
    this.window = window;
    this.hash = hash;
    [this.band0, this.band1, this.band2, this.band3] = hashBands(hash);
  }
}
