import { PNG } from "pngjs";
import jpeg from "jpeg-js";

export type ImageFormat = "image/png" | "image/jpeg";

export interface DecodedImage {
  format: ImageFormat;
  width: number;
  height: number;
}

/** A decoded image with its pixels, 4 bytes (RGBA) each, row by row. */
interface Pixels extends DecodedImage {
  rgba: Uint8Array;
}

/** A copy of a photo for a vision model: the original, or a smaller JPEG of it. */
export interface ModelImage {
  mediaType: ImageFormat;
  data: Buffer;
}

/** The format named by the file's leading bytes, whatever the client claimed. */
export function sniffImageFormat(data: Buffer): ImageFormat | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return "image/jpeg";
  return undefined;
}

/**
 * Fully decodes a PNG or JPEG (not just its header), so a truncated or
 * corrupt file is caught. Bounded in pixels and memory: a small file that
 * claims a huge canvas (a decompression bomb) is refused from its header.
 */
export function decodeImage(data: Buffer, maxMegapixels = 50): DecodedImage | undefined {
  const pixels = decodePixels(data, maxMegapixels);
  return pixels && { format: pixels.format, width: pixels.width, height: pixels.height };
}

function decodePixels(data: Buffer, maxMegapixels: number): Pixels | undefined {
  const format = sniffImageFormat(data);
  try {
    if (format === "image/png") {
      // IHDR is the first chunk: width and height are the big-endian words at bytes 16 and 20.
      if (data.length < 24 || data.toString("latin1", 12, 16) !== "IHDR") return undefined;
      if (data.readUInt32BE(16) * data.readUInt32BE(20) > maxMegapixels * 1_000_000) return undefined;
      const png = PNG.sync.read(data);
      return { format, width: png.width, height: png.height, rgba: png.data };
    }
    if (format === "image/jpeg") {
      const image = jpeg.decode(data, { maxResolutionInMP: maxMegapixels, maxMemoryUsageInMB: 512, useTArray: true, formatAsRGBA: true });
      return { format, width: image.width, height: image.height, rgba: image.data };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Decodes a photo (as decodeImage) and, when it is larger than a vision
 * model should be sent (its long edge over `maxEdge` pixels, or over
 * `maxBytes`), makes a smaller JPEG of it: box-filtered down to `maxEdge`,
 * quality 85. Smaller photos go to the model as they are.
 */
export function decodeForModel(data: Buffer, maxMegapixels: number, fit: { maxEdge: number; maxBytes: number }): { image: DecodedImage; model?: ModelImage } | undefined {
  const pixels = decodePixels(data, maxMegapixels);
  if (!pixels) return undefined;
  const image = { format: pixels.format, width: pixels.width, height: pixels.height };
  if (Math.max(pixels.width, pixels.height) <= fit.maxEdge && data.length <= fit.maxBytes) return { image };
  const scale = Math.min(1, fit.maxEdge / Math.max(pixels.width, pixels.height));
  const width = Math.max(1, Math.round(pixels.width * scale));
  const height = Math.max(1, Math.round(pixels.height * scale));
  const encoded = jpeg.encode({ data: downscale(pixels, width, height), width, height }, 85);
  return { image, model: { mediaType: "image/jpeg", data: encoded.data } };
}

/** Area-averaging resize: each output pixel is the mean of the source pixels it covers (alpha dropped to opaque). */
function downscale(source: Pixels, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 4);
  const sx = source.width / width;
  const sy = source.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * sy));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * sx));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let yy = y0; yy < y1; yy++) {
        let i = (yy * source.width + x0) * 4;
        for (let xx = x0; xx < x1; xx++, i += 4) {
          r += source.rgba[i];
          g += source.rgba[i + 1];
          b += source.rgba[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return out;
}

/**
 * A PNG photo made for tests and the test-mode mock operator: a smooth
 * gradient whose colours come from `seed`, so every seed gives distinct bytes.
 */
export function generatePhoto(seed: number, width = 640, height = 480): Buffer {
  const png = new PNG({ width, height });
  const r0 = (seed * 53) % 256;
  const g0 = (seed * 97) % 256;
  const b0 = (seed * 193) % 256;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = (r0 + x) % 256;
      png.data[i + 1] = (g0 + y) % 256;
      png.data[i + 2] = (b0 + x + y) % 256;
      png.data[i + 3] = 255;
    }
  }
  // The Sub filter turns a gradient into runs that deflate to a few KB; pngjs's default filter search makes it 50x larger and 6x slower to write.
  return PNG.sync.write(png, { filterType: 1, deflateStrategy: 1 });
}
