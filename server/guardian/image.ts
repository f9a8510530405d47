import { PNG } from "pngjs";
import jpeg from "jpeg-js";

export type ImageFormat = "image/png" | "image/jpeg";

export interface DecodedImage {
  format: ImageFormat;
  width: number;
  height: number;
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
  const format = sniffImageFormat(data);
  try {
    if (format === "image/png") {
      // IHDR is the first chunk: width and height are the big-endian words at bytes 16 and 20.
      if (data.length < 24 || data.toString("latin1", 12, 16) !== "IHDR") return undefined;
      if (data.readUInt32BE(16) * data.readUInt32BE(20) > maxMegapixels * 1_000_000) return undefined;
      const png = PNG.sync.read(data);
      return { format, width: png.width, height: png.height };
    }
    if (format === "image/jpeg") {
      const image = jpeg.decode(data, { maxResolutionInMP: maxMegapixels, maxMemoryUsageInMB: 512, useTArray: true });
      return { format, width: image.width, height: image.height };
    }
  } catch {
    return undefined;
  }
  return undefined;
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
