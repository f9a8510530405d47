import { BlobType, Entity, PrimaryKey, Property } from "@mikro-orm/core";

/** An object of the database photo store (PHOTO_STORE=database): the bytes in a row, seen by every replica. */
@Entity({ tableName: "photo_blobs" })
export class PhotoBlob {
  @PrimaryKey({ type: "string", length: 200 })
  key: string;

  @Property({ type: "string", length: 100 })
  contentType: string;

  @Property({ type: BlobType })
  data: Buffer;

  @Property({ type: "Date" })
  createdAt: Date = new Date();

  constructor(key: string, contentType: string, data: Buffer) {
    this.key = key;
    this.contentType = contentType;
    this.data = data;
  }
}
