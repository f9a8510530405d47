import { createHash, type Hash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import { DomainError, LimitExceededError, ValidationError } from "../common/errors";
import type { PhotoUpload } from "../proofs/proof.service";
import type { SpoolFile } from "../photos/photo.store";
import type { MultipartBody, MultipartLimits } from "./rest.route";

/** The first bytes of a file kept beside a spooled one: enough for its type (sniffPhotoFormat). */
const HEAD_BYTES = 64;
/** The first buffer of a file whose size the request does not bound (no Content-Length). */
const FIRST_CAPACITY = 64 * 1024;
/**
 * The most a file's first buffer takes on the word of the request's
 * Content-Length: a client that declares megabytes and then stalls holds
 * no more than this until its bytes arrive (the buffer then doubles).
 */
const MAX_FIRST_CAPACITY = 1024 * 1024;

/**
 * Where a file part's bytes go as they arrive, hashed (SHA-256) chunk by
 * chunk on the way, so no later step joins them in one turn or hashes the
 * photo again: memory (FileBytes) or a temporary file of the photo store
 * (SpooledBytes).
 */
interface FileSink {
  /** Takes a chunk; false asks the sender to wait for `drain` (a file's writes are behind). */
  write(chunk: Buffer): boolean;
  /** The file whole: its bytes or spooled file, its hash. */
  end(): Promise<Pick<PhotoUpload, "data" | "sha256">>;
  /** Drops what was received (a spooled file is removed). */
  abort(): Promise<void>;
  once(event: "drain", listener: () => void): void;
}

/**
 * A file part's bytes in memory: copied into one buffer sized up front to
 * what the request can still hold (its Content-Length less what came
 * before, within the file limit and MAX_FIRST_CAPACITY), doubled when more
 * arrives, and hashed as they come. A file that ends up filling less
 * than half its buffer is copied out to a buffer of its own size, so a
 * photo never keeps more than twice its bytes alive.
 */
export class FileBytes implements FileSink {
  private buffer: Buffer;
  private length = 0;
  private readonly hash: Hash = createHash("sha256");

  /** `expected`: the most bytes the file can have (undefined when unknown); `limit`: the most it may have. */
  constructor(
    expected: number | undefined,
    private readonly limit: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(1, Math.min(expected ?? FIRST_CAPACITY, limit, MAX_FIRST_CAPACITY)));
  }

  /** How many bytes the buffer holds room for (for tests). */
  get capacity(): number {
    return this.buffer.length;
  }

  write(chunk: Buffer): boolean {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      // busboy stops a file at the limit; a chunk past it never comes here, so growing stops at the limit.
      const grown = Buffer.allocUnsafe(Math.min(Math.max(needed, this.buffer.length * 2), Math.max(needed, this.limit)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.length);
    this.length = needed;
    this.hash.update(chunk);
    return true;
  }

  end(): Promise<{ data: Buffer; sha256: string }> {
    const used = this.buffer.subarray(0, this.length);
    const data = this.length * 2 < this.buffer.length ? Buffer.from(used) : used;
    return Promise.resolve({ data, sha256: this.hash.digest("hex") });
  }

  abort(): Promise<void> {
    this.buffer = Buffer.alloc(0);
    return Promise.resolve();
  }

  once(): void {
    // Memory never asks the sender to wait.
  }
}

/**
 * A file part written to a temporary file of the photo store as it
 * arrives (PhotoStore.spool), hashed on the way: the photo's megabytes
 * never sit on the heap. The store renames the file into place when the
 * photo is saved (PhotoStore.adopt); a part that fails is removed.
 */
class SpooledBytes implements FileSink {
  private readonly hash: Hash = createHash("sha256");
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private size = 0;

  constructor(private readonly file: SpoolFile) {}

  write(chunk: Buffer): boolean {
    if (this.headLength < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headLength);
      this.head.push(Buffer.from(part));
      this.headLength += part.length;
    }
    this.size += chunk.length;
    this.hash.update(chunk);
    return this.file.write(chunk);
  }

  async end(): Promise<{ data: PhotoUpload["data"]; sha256: string }> {
    await this.file.end();
    return { data: { file: this.file.path, size: this.size, head: Buffer.concat(this.head) }, sha256: this.hash.digest("hex") };
  }

  abort(): Promise<void> {
    return this.file.remove();
  }

  once(event: "drain", listener: () => void): void {
    this.file.once(event, listener);
  }
}

/**
 * Reads a multipart/form-data upload within hard limits: a file over
 * `fileBytes` is PAYLOAD_TOO_LARGE, more than `files` files is
 * LIMIT_EXCEEDED, and unknown parts are refused by name. Reading stops at
 * the first broken limit. Each file is hashed as it arrives (its `sha256`)
 * and kept in memory, or, given a `spool` (the directory photo store),
 * written to a temporary file of the store: the body's discard() removes
 * what the request did not keep, and a request that fails or is cut off
 * leaves no file behind.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits, spool?: () => SpoolFile): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: PhotoUpload[] = [];
    const sinks: FileSink[] = [];
    const ended: Array<Promise<void>> = [];
    let failed = false;
    let parsed = false;
    const maxParts = limits.files + limits.fields.length;
    const declared = Number(req.headers["content-length"]);
    const contentLength = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
    /** Bytes of the body that came before the chunk the parser is reading: what a file starting now cannot be part of. */
    let before = 0;
    let received = 0;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // busboy signals partsLimit on *reaching* its limit (filesLimit and fieldsLimit on going past theirs): one more than allowed.
        // busboy signals a file's limit on *reaching* fileSize: a file of exactly fileBytes is allowed, one byte more is not.
        limits: { fileSize: limits.fileBytes + 1, files: limits.files, fields: limits.fields.length, fieldSize: limits.fieldBytes, parts: maxParts + 1 },
      });
    } catch (err) {
      return reject(new ValidationError("body", `is not a readable multipart/form-data body (${(err as Error).message})`));
    }
    const discard = () => Promise.all(sinks.map((sink) => sink.abort().catch(() => undefined))).then(() => undefined);
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      // Every spooled file is removed before the request answers (a file cut off half way never ends: it is not waited for).
      void discard().then(() => reject(err));
    };
    const count = (chunk: Buffer) => {
      before = received;
      received += chunk.length;
    };
    req.on("data", count);
    // The client went away before the body ended: nothing of it is kept.
    const cutOff = () => {
      if (!req.complete && !parsed) fail(new ValidationError("body", "was cut off before its end"));
    };
    req.once("close", cutOff);
    req.on("error", cutOff);

    parser.on("file", (name, stream, info) => {
      // busboy goes on through the chunk it holds after a failure: a part that starts then is drained, never stored.
      if (failed) return stream.resume();
      const index = files.length;
      files.length = index + 1;
      if (name !== limits.fileField) {
        stream.resume();
        return fail(new ValidationError(name, `is not a known file field (send photos as "${limits.fileField}")`));
      }
      const field = `${name}[${index}]`;
      let sink: FileSink;
      try {
        sink = spool ? new SpooledBytes(spool()) : new FileBytes(contentLength === undefined ? undefined : contentLength - before, limits.fileBytes);
      } catch (err) {
        stream.resume();
        return fail(err as Error);
      }
      sinks.push(sink);
      stream.on("data", (chunk: Buffer) => {
        if (failed) return;
        if (!sink.write(chunk)) {
          stream.pause();
          sink.once("drain", () => stream.resume());
        }
      });
      stream.on("limit", () => fail(new DomainError("PAYLOAD_TOO_LARGE", `${field}: must be at most ${limits.fileBytes} bytes`, field)));
      ended.push(
        new Promise<void>((done, broken) => {
          stream.on("end", () => {
            if (failed) return done();
            sink.end().then(({ data, sha256 }) => {
              files[index] = { data, sha256, contentType: info.mimeType, filename: info.filename };
              done();
            }, broken);
          });
        }).catch((err: unknown) => fail(new Error(`${field}: could not be stored (${(err as Error).message})`))),
      );
    });
    parser.on("field", (name, value, info) => {
      if (!limits.fields.includes(name)) return fail(new ValidationError(name, "is not a known field"));
      if (info.valueTruncated) return fail(new DomainError("PAYLOAD_TOO_LARGE", `${name}: must be at most ${limits.fieldBytes} bytes`, name));
      fields[name] = value;
    });
    parser.on("filesLimit", () => fail(new LimitExceededError(`${limits.fileField}: at most ${limits.files} files per request`, limits.fileField)));
    parser.on("fieldsLimit", () => fail(new ValidationError("body", `has too many fields (known fields: ${limits.fields.join(", ")})`)));
    parser.on("partsLimit", () => fail(new LimitExceededError(`the form has more than ${maxParts} parts`)));
    parser.on("error", (err: Error) => fail(new ValidationError("body", `is not a readable multipart/form-data body (${err.message})`)));
    parser.on("close", () => {
      parsed = true;
      req.off("data", count);
      void Promise.all(ended).then(() => {
        if (!failed) resolve({ fields, files, discard });
      });
    });
    req.pipe(parser);
  });
}
