/**
 * The child process DecoderProcess (photo.process.ts) starts: it runs a
 * PhotoDecoder below the server's CPU priority and answers the parent's
 * requests. Loaded (and, under ts-node, compiled) at the server's priority,
 * so a start is quick. It exits when the parent goes.
 *
 *   message in:  { id, op: "decode" | "copies" | "hashes", data or file, fit? }
 *   message out: { id, result } or { id, error }
 */
import fs from "node:fs";
import os from "node:os";
import { PhotoDecoder, type ModelFit } from "./photo.decoder";

/**
 * Lowers the CPU priority of every thread of this process. Linux keeps a
 * priority per thread, and the image library's threads (libuv's pool,
 * libvips's workers) do not all inherit it from the thread that asked for
 * them, so each thread is lowered by its id, listed in /proc/self/task;
 * where there is no /proc, the process's priority is lowered. Called
 * before and after every request: a thread started during one is lowered
 * by the next call.
 */
function lowerPriority(): void {
  let threads: number[];
  try {
    threads = fs.readdirSync("/proc/self/task").map(Number);
  } catch {
    threads = [0];
  }
  for (const thread of threads) {
    try {
      os.setPriority(thread, os.constants.priority.PRIORITY_LOW);
    } catch {
      // Gone already, or not allowed here (a sandbox): the decoding still runs, at normal priority.
    }
  }
}

export interface DecoderRequest {
  id: number;
  op: "decode" | "copies" | "hashes";
  /** The photo's bytes, or (file) the path of a local file holding them, which the decoder reads here. */
  data?: Uint8Array;
  file?: string;
  fit?: ModelFit;
}

export type DecoderAnswer = { id: number; result: unknown } | { id: number; error: string };

const [maxMegapixels, concurrency] = process.argv.slice(2).map(Number);
const decoder = new PhotoDecoder(maxMegapixels, concurrency);

/** The bytes as a Buffer over the same memory (the message channel hands over a Uint8Array). */
const asBuffer = (data: Uint8Array) => (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

function run(request: DecoderRequest): Promise<unknown> {
  lowerPriority();
  const data = request.file !== undefined ? { file: request.file } : asBuffer(request.data ?? new Uint8Array());
  if (request.op === "decode") return decoder.decode(data, request.fit);
  if (request.op === "copies") return decoder.copies(data);
  return decoder.hashes(data);
}

process.on("message", (request: DecoderRequest) => {
  run(request).finally(lowerPriority).then(
    (result) => process.send!({ id: request.id, result } satisfies DecoderAnswer),
    (err: unknown) => process.send!({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies DecoderAnswer),
  );
});
process.on("disconnect", () => process.exit(0));
lowerPriority();
process.send!({ ready: true });
