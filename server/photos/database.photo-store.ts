import type { Em } from "../db/orm";
import { PhotoBlob } from "./photo-blob.entity";
import type { PhotoStore } from "./photo.store";

/** Photos as rows of photo_blobs: nothing else to run, every replica sees them, backups include them. */
export class DatabasePhotoStore implements PhotoStore {
  readonly kind = "database";
  /** The last statement queued on each open transaction (see serial). */
  private readonly tails = new WeakMap<object, Promise<unknown>>();

  async put(em: Em, key: string, data: Buffer, contentType: string): Promise<void> {
    await this.serial(em, () => em.upsert(PhotoBlob, { key, contentType, data, createdAt: new Date() }));
  }

  async get(em: Em, key: string): Promise<Buffer | undefined> {
    const rows = await this.serial(em, () => em.getConnection().execute<Array<{ data: Buffer }>>("select data from photo_blobs where key = ?", [key], "all", em.getTransactionContext()));
    return rows[0]?.data;
  }

  async delete(em: Em, keys: string[]): Promise<void> {
    if (keys.length) await this.serial(em, () => em.nativeDelete(PhotoBlob, { key: { $in: keys } }));
  }

  /**
   * Callers save and read several photos side by side (Promise.all). Outside
   * a transaction each statement takes its own pooled connection; inside one
   * they share the transaction's single connection, which must not be sent a
   * statement while another is running (pg: "client.query() when the client
   * is already executing a query"), so there they run one after the other.
   */
  private serial<T>(em: Em, work: () => Promise<T>): Promise<T> {
    const transaction = em.getTransactionContext<object>();
    if (!transaction) return work();
    const run = (this.tails.get(transaction) ?? Promise.resolve()).then(work);
    this.tails.set(
      transaction,
      run.catch(() => undefined),
    );
    return run;
  }
}
