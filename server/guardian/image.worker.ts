import { parentPort } from "node:worker_threads";
import { decodeForModel, decodeImage } from "./image";

/**
 * One photo per message: { id, data, maxMegapixels, fit? } in; { id, image, model? } out (image undefined when
 * it does not decode; model, a smaller JPEG for a vision model, when `fit` asked for one and the photo is larger).
 */
interface DecodeRequest {
  id: number;
  data: Uint8Array;
  maxMegapixels: number;
  fit?: { maxEdge: number; maxBytes: number };
}

parentPort!.on("message", ({ id, data, maxMegapixels, fit }: DecodeRequest) => {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!fit) return parentPort!.postMessage({ id, image: decodeImage(bytes, maxMegapixels) });
  const decoded = decodeForModel(bytes, maxMegapixels, fit);
  parentPort!.postMessage({ id, image: decoded?.image, model: decoded?.model && { mediaType: decoded.model.mediaType, data: new Uint8Array(decoded.model.data) } });
});
