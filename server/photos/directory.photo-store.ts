import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Em } from "../db/orm";
import type { PhotoStore, SpoolFile } from "./photo.store";

/** The directory of the store's root that uploads are spooled to before they are adopted under a key. */
const INCOMING = ".incoming";
/** A spooled file older than this is left from a process that died during its upload (an upload takes seconds): it is removed. */
export const STALE_SPOOL_MS = 24 * 3600_000;

/**
 * Photos as files under a directory (the embedded default, ./data/photos).
 * A write goes to a temporary file renamed into place, so a reader or a
 * crash never leaves half a photo under its name. An upload can be
 * written straight to such a file as it arrives (spool) and renamed into
 * place when its proof is saved (adopt).
 */
export class DirectoryPhotoStore implements PhotoStore {
  readonly kind = "directory";
  private readonly incoming: string;
  private swept = false;

  constructor(private readonly root: string) {
    this.incoming = path.join(root, INCOMING);
  }

  private file(key: string): string {
    if (!/^[\w-]+(\/[\w.-]+)*$/.test(key) || key.split("/").includes("..")) throw new Error(`not a photo key: ${key}`);
    return path.join(this.root, ...key.split("/"));
  }

  fileOf(key: string): string {
    return this.file(key);
  }

  async put(_em: Em, key: string, data: Buffer): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writeFile(temporary, data, { flush: true });
    await rename(temporary, file);
  }

  spool(): SpoolFile {
    // The directory the temporary files go to, on the store's file system so that adopt() is a rename: made again if it was
    // removed while the process ran (a directory that exists costs one system call).
    mkdirSync(this.incoming, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      void this.sweep(Date.now() - STALE_SPOOL_MS).catch(() => undefined);
    }
    return new DirectorySpoolFile(path.join(this.incoming, `${randomUUID()}.tmp`));
  }

  async adopt(_em: Em, key: string, file: string): Promise<void> {
    if (path.dirname(file) !== this.incoming || !/^[\w-]+\.tmp$/.test(path.basename(file))) throw new Error(`not a spooled upload of this store: ${file}`);
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
  }

  /**
   * Removes spooled files last written before `before`: what a process
   * that died during uploads left (a live one removes its own). Run once a
   * process starts spooling; returns how many it removed.
   */
  async sweep(before: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.incoming).catch(() => [] as string[])) {
      const file = path.join(this.incoming, name);
      const modified = await stat(file).then((s) => s.mtimeMs, () => undefined);
      if (modified !== undefined && modified < before) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async get(_em: Em, key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async delete(_em: Em, keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.file(key), { force: true })));
  }
}

/** An upload being written to the store's incoming directory; its bytes reach the disk (fsync) before end() resolves. */
class DirectorySpoolFile implements SpoolFile {
  private readonly stream: WriteStream;
  private error?: Error;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flush: true });
    this.stream.on("error", (err) => {
      this.error ??= err;
      // A sender waiting for room goes on; its next write or end() sees the error.
      this.stream.emit("drain");
    });
  }

  write(chunk: Buffer): boolean {
    if (this.error) return true;
    return this.stream.write(chunk);
  }

  once(event: "drain", listener: () => void): void {
    this.stream.once(event, listener);
  }

  end(): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = () => (this.error ? reject(this.error) : resolve());
      if (this.stream.closed) return settle();
      this.stream.once("close", settle);
      this.stream.end();
    });
  }

  async remove(): Promise<void> {
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once("close", () => resolve());
        this.stream.destroy();
      });
    }
    await rm(this.path, { force: true });
  }
}
