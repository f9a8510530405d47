import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Em } from "../db/orm";
import type { PhotoStore } from "./photo.store";

/**
 * Photos as files under a directory (the embedded default, ./data/photos).
 * A write goes to a temporary file renamed into place, so a reader or a
 * crash never leaves half a photo under its name.
 */
export class DirectoryPhotoStore implements PhotoStore {
  readonly kind = "directory";

  constructor(private readonly root: string) {}

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
