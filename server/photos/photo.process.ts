import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Decoded, ModelFit, PhotoCopies, PhotoInput, PhotoWork } from "./photo.decoder";
import type { DecoderAnswer, DecoderRequest } from "./photo.worker";

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/** A Uint8Array from the message channel as a Buffer over the same memory. */
const asBuffer = (data: Uint8Array | undefined) => (data && !Buffer.isBuffer(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : data);

/**
 * What a request carries of a photo: a file's path when it is in one (the
 * child reads it, so no bytes are copied and sent from the server's event
 * loop: for a 3.5 MB photo that is two copies and a pipe's worth of writes),
 * else the bytes.
 */
const input = (photo: PhotoInput): Pick<DecoderRequest, "data" | "file"> => (Buffer.isBuffer(photo) ? { data: photo } : { file: photo.file });

/**
 * The photo decoder in a child process of lower CPU priority
 * (photo.worker.ts), so decoding, hashing and making the copies of large
 * photos never takes CPU the API needs to answer: when both want the
 * cores, the API's event loop gets them; when the API is quiet, decoding
 * gets them all. Answers exactly what PhotoDecoder answers (the child runs
 * one, at the same concurrency, which still bounds the memory decoding
 * takes). The child starts on the first request and again after it dies
 * (what was asked of it then fails, with an error); close() stops it.
 */
export class DecoderProcess implements PhotoWork {
  private child?: ChildProcess;
  private ready?: Promise<ChildProcess>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(
    readonly maxMegapixels: number,
    private readonly concurrency: number,
  ) {}

  decode(photo: PhotoInput, fit?: ModelFit): Promise<Decoded | undefined> {
    return this.ask<Decoded | undefined>({ op: "decode", ...input(photo), fit }).then((decoded) => {
      if (decoded?.exif) decoded.exif = asBuffer(decoded.exif);
      if (decoded?.model) decoded.model.data = asBuffer(decoded.model.data)!;
      return decoded;
    });
  }

  copies(photo: PhotoInput): Promise<PhotoCopies | undefined> {
    return this.ask<PhotoCopies | undefined>({ op: "copies", ...input(photo) }).then(
      (copies) => copies && { ...copies, display: asBuffer(copies.display)!, thumbnail: asBuffer(copies.thumbnail)! },
    );
  }

  hashes(photo: PhotoInput): Promise<string[] | undefined> {
    return this.ask<string[] | undefined>({ op: "hashes", ...input(photo) });
  }

  /** Stops the child; requests still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill();
    await exited;
  }

  private async ask<T>(request: Omit<DecoderRequest, "id">): Promise<T> {
    if (this.closed) throw new Error("the photo decoder process was closed");
    const child = await this.start();
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve, reject }));
    if (this.pending.size === 1) this.hold(child, true);
    child.send({ ...request, id } satisfies DecoderRequest);
    return answer;
  }

  /** Starts the child when none runs; resolves once it is ready for requests. */
  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    // Compiled (dist/, npm start) the worker is a .js file beside this one; under ts-node (tests, benchmarks) a .ts file the child compiles the same way.
    const typescript = __filename.endsWith(".ts");
    const child = fork(path.join(__dirname, `photo.worker${typescript ? ".ts" : ".js"}`), [String(this.maxMegapixels), String(this.concurrency)], {
      serialization: "advanced",
      execArgv: typescript ? ["-r", "ts-node/register/transpile-only"] : [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      child.on("message", (message: DecoderAnswer | { ready: true }) => {
        if ("ready" in message) return resolve(child);
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.hold(child, false);
        if ("error" in message) waiting.reject(new Error(`photo decoder: ${message.error}`));
        else waiting.resolve(message.result);
      });
      child.once("exit", (code, signal) => {
        const err = new Error(`the photo decoder process exited (${signal ?? `code ${code}`})`);
        reject(err);
        for (const waiting of this.pending.values()) waiting.reject(err);
        this.pending.clear();
        if (this.child === child) [this.child, this.ready] = [undefined, undefined];
      });
      child.once("error", reject);
    });
    return this.ready;
  }

  /** While requests wait, the child keeps this process alive; idle, it does not. */
  private hold(child: ChildProcess, busy: boolean): void {
    const channel = child.channel as { ref?(): void; unref?(): void } | null | undefined;
    if (busy) {
      child.ref();
      channel?.ref?.();
    } else {
      child.unref();
      channel?.unref?.();
    }
  }
}
