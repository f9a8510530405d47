import { parentPort } from "node:worker_threads";
import { decodeImage } from "./image";

/** One decode per message: { id, data, maxMegapixels } in, { id, image } out (image undefined when it does not decode). */
interface DecodeRequest {
  id: number;
  data: Uint8Array;
  maxMegapixels: number;
}

parentPort!.on("message", ({ id, data, maxMegapixels }: DecodeRequest) => {
  const image = decodeImage(Buffer.from(data.buffer, data.byteOffset, data.byteLength), maxMegapixels);
  parentPort!.postMessage({ id, image });
});
