import type { Em } from "../db/orm";
import { PhotoBlob } from "./photo-blob.entity";
import type { PhotoStore } from "./photo.store";

/** Photos as rows of photo_blobs: nothing else to run, every replica sees them, backups include them. */
export class DatabasePhotoStore implements PhotoStore {
  readonly kind = "database";

  async put(em: Em, key: string, data: Buffer, contentType: string): Promise<void> {
    await em.upsert(PhotoBlob, { key, contentType, data, createdAt: new Date() });
  }

  async get(em: Em, key: string): Promise<Buffer | undefined> {
    const rows = await em.getConnection().execute<Array<{ data: Buffer }>>("select data from photo_blobs where key = ?", [key], "all", em.getTransactionContext());
    return rows[0]?.data;
  }

  async delete(em: Em, keys: string[]): Promise<void> {
    if (keys.length) await em.nativeDelete(PhotoBlob, { key: { $in: keys } });
  }
}
