import type { Em } from "../db/orm";

/**
 * Where proof photos' bytes live. Every replica of a deployment must see
 * every photo: the database and an S3 bucket are shared by nature; a
 * directory only when it is a shared mount (config.ts refuses one with
 * REDIS_URL set, which means replicas, unless PHOTO_DIRECTORY_SHARED says so).
 */
export interface PhotoStore {
  /** The backend's name, for logs: database, directory or s3. */
  readonly kind: PhotoStoreKind;
  /**
   * Writes (or overwrites) an object: the same key always gets the same
   * bytes, so a retried write is harmless. Every method takes the caller's
   * EntityManager: the database store works through it, inside the caller's
   * transaction when there is one (SQLite has one connection, so a second
   * one would wait on it for ever); the others ignore it.
   */
  put(em: Em, key: string, data: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or undefined when there is none under the key. */
  get(em: Em, key: string): Promise<Buffer | undefined>;
  /** Removes the objects; keys that do not exist are skipped. */
  delete(em: Em, keys: string[]): Promise<void>;
  /** A URL the client fetches from the store itself, valid for `ttlSeconds`; undefined when the store cannot serve the bytes (they go through the API). */
  presign?(key: string, contentType: string, ttlSeconds: number): Promise<string>;
  /**
   * The path of the local file holding an object, for a store that keeps
   * objects as files (the directory store): a decoder reads it itself
   * instead of being handed the bytes. Undefined elsewhere.
   */
  fileOf?(key: string): string;
  /**
   * A temporary file of the store that an upload is written to as it
   * arrives (the directory store): adopt() renames it into place under a
   * key; one not adopted is removed (SpoolFile.remove). Undefined elsewhere.
   */
  spool?(): SpoolFile;
  /** Makes a spooled file (spool()) the object under `key`, without copying it. */
  adopt?(em: Em, key: string, file: string): Promise<void>;
  /** Releases connections, at shutdown. */
  close?(): void;
}

/** A temporary file being written (PhotoStore.spool): a writable stream's few methods. */
export interface SpoolFile {
  readonly path: string;
  /** Writes a chunk; false when the writes are behind, until `drain`. */
  write(chunk: Buffer): boolean;
  once(event: "drain", listener: () => void): void;
  /** Resolves once every byte is on disk and the file closed; rejects with the first write error. */
  end(): Promise<void>;
  /** Stops writing and removes the file (nothing when it was adopted or is gone). */
  remove(): Promise<void>;
}

export type PhotoStoreKind = "database" | "directory" | "s3";

/** The object names of a stored photo's original and its two shown copies. */
export function photoKey(photoId: string, variant: "original" | "display" | "thumbnail"): string {
  return `proof-photos/${photoId}/${variant}`;
}
