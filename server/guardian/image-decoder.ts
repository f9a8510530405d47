import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { DecodedImage, ModelImage } from "./image";

/** How large a photo a vision model is sent as it is; larger ones go as a smaller JPEG. */
export interface ModelFit {
  /** Pixels on the long edge. */
  maxEdge: number;
  maxBytes: number;
}

/** A decoded photo, and the copy to show a vision model when `fit` was asked for and the photo is larger. */
export interface Decoded extends DecodedImage {
  model?: ModelImage;
}

/** Decodes images for the Guardian. */
export interface ImageDecoder {
  /** The decoded size, or undefined when the bytes are not a whole PNG or JPEG within the pixel bound. */
  decode(data: Buffer, fit?: ModelFit): Promise<Decoded | undefined>;
  /** Larger images are refused undecoded. */
  readonly maxMegapixels: number;
  close(): Promise<void>;
}

interface Pending {
  resolve(image: Decoded | undefined): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** A sensible default: leave one core to the event loop, use at most four. */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

/**
 * Full image decoding (tens of milliseconds for a phone photo, seconds for a
 * large one) on worker threads, so scoring proof never stalls the API's
 * event loop. Requests go to the thread with the fewest in flight; a thread
 * that dies (e.g. out of memory on a hostile file) fails its requests, which
 * the Guardian job retries, and is replaced.
 */
export class ImageDecoderPool implements ImageDecoder {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    readonly maxMegapixels: number,
  ) {}

  decode(data: Buffer, fit?: ModelFit): Promise<Decoded | undefined> {
    if (this.closed) return Promise.reject(new Error("the image decoder is closed"));
    const thread = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, data, maxMegapixels: this.maxMegapixels, fit });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((thread) => thread.worker.terminate()));
  }

  private pick(): Thread {
    if (this.threads.length < this.size) return this.spawn();
    return this.threads.reduce((least, thread) => (thread.pending.size < least.pending.size ? thread : least));
  }

  private spawn(): Thread {
    // Run from dist/ the compiled worker is a .js file; under ts-node (tests, `npm run dev`) it is compiled on load.
    const extension = path.extname(__filename);
    const worker = new Worker(path.join(__dirname, `image.worker${extension}`), {
      execArgv: extension === ".ts" ? [...process.execArgv, "--require", "ts-node/register/transpile-only"] : process.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on("message", ({ id, image, model }: { id: number; image?: DecodedImage; model?: { mediaType: ModelImage["mediaType"]; data: Uint8Array } }) => {
      thread.pending.get(id)?.resolve(image && { ...image, ...(model ? { model: { mediaType: model.mediaType, data: Buffer.from(model.data.buffer, model.data.byteOffset, model.data.byteLength) } } : {}) });
      thread.pending.delete(id);
    });
    const fail = (err: Error) => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      for (const pending of thread.pending.values()) pending.reject(err);
      thread.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the image decoder thread exited (code ${code})`)));
    this.threads.push(thread);
    return thread;
  }
}
