import { readFile } from "node:fs/promises";
import sharp, { type Sharp } from "sharp";
import exifReader from "exif-reader";
import { windowHashes } from "./photo.hash";
import { ACCEPTED_PHOTO_TYPES } from "../api/enums";

/** The photo types HumanOps accepts, by what the bytes show (never by what the client claims). */
export { ACCEPTED_PHOTO_TYPES };
export type PhotoFormat = (typeof ACCEPTED_PHOTO_TYPES)[number];

const SHARP_FORMATS: Record<string, PhotoFormat> = { jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

/** The display copy's long edge and the thumbnail's, in pixels. */
export const DISPLAY_EDGE = 1600;
export const THUMBNAIL_EDGE = 320;

/** The format named by the file's leading bytes: PNG, JPEG or WebP; undefined for anything else (HEIC, GIF, ...). */
export function sniffPhotoFormat(data: Buffer): PhotoFormat | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return "image/jpeg";
  if (data.length >= 12 && data.toString("latin1", 0, 4) === "RIFF" && data.toString("latin1", 8, 12) === "WEBP") return "image/webp";
  return undefined;
}

/** What a photo's header says, read without decoding its pixels. */
export interface PhotoHeader {
  format: PhotoFormat;
  /** As stored, before EXIF orientation. */
  width: number;
  height: number;
}

/**
 * Reads a photo's header only (microseconds, whatever the canvas size; of a
 * file, its first blocks), so
 * limits on pixels apply before any decoding. Undefined when the header is
 * not a readable PNG, JPEG or WebP header.
 */
export async function readPhotoHeader(photo: PhotoInput): Promise<PhotoHeader | undefined> {
  try {
    const metadata = await sharp(Buffer.isBuffer(photo) ? photo : photo.file, { limitInputPixels: false }).metadata();
    const format = SHARP_FORMATS[metadata.format ?? ""];
    return format && metadata.width && metadata.height ? { format, width: metadata.width, height: metadata.height } : undefined;
  } catch {
    return undefined;
  }
}

/** Where and when the camera says a photo was taken (EXIF), and what made it. */
export interface CaptureMetadata {
  takenAt?: Date;
  latitude?: number;
  longitude?: number;
  make?: string;
  model?: string;
  software?: string;
}

/** A photo that decoded in full. Width and height are as shown, after EXIF orientation. */
export interface DecodedPhoto {
  format: PhotoFormat;
  width: number;
  height: number;
  /** The raw EXIF block, when the photo has one. */
  exif?: Buffer;
  capture: CaptureMetadata;
}

/** A copy of a photo for a vision model: the original, or a smaller JPEG of it. */
export interface ModelImage {
  mediaType: PhotoFormat;
  data: Buffer;
}

/** How large a photo a vision model is sent as it is; larger ones go as a smaller JPEG. */
export interface ModelFit {
  /** Pixels on the long edge. */
  maxEdge: number;
  maxBytes: number;
}

/** A decoded photo, and the copy to show a vision model when `fit` was asked for and the photo is larger. */
export interface Decoded extends DecodedPhoto {
  model?: ModelImage;
}

/** The copies of a photo that are shown: oriented upright, JPEG, every metadata block stripped. */
export interface PhotoCopies {
  display: Buffer;
  thumbnail: Buffer;
  /** The upright size of the original. */
  width: number;
  height: number;
  capture: CaptureMetadata;
  /** The perceptual hashes of the picture's windows, the whole frame's first (server/photos/photo.hash.ts). */
  hashes: string[];
}

/** A degrees/minutes/seconds triple with its hemisphere, as EXIF stores GPS coordinates. */
function degrees(value: unknown, ref: unknown, negative: string): number | undefined {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((n) => typeof n === "number" && Number.isFinite(n))) return undefined;
  const [d, m, s] = value as number[];
  const result = (d + m / 60 + s / 3600) * (ref === negative ? -1 : 1);
  return Number.isFinite(result) ? result : undefined;
}

/**
 * EXIF capture times are the camera's wall clock without a zone; a camera that
 * also writes OffsetTimeOriginal ("+02:00") says which, and the time is
 * moved to UTC by it. Without one it is read as UTC.
 */
function inUtc(taken: Date, offset: unknown): Date {
  const zone = typeof offset === "string" ? /^([+-])(\d{2}):(\d{2})$/.exec(offset.trim()) : null;
  if (!zone) return taken;
  const minutes = (zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
  return new Date(taken.getTime() - minutes * 60_000);
}

const text = (value: unknown) => (typeof value === "string" && value.trim() ? value.trim().slice(0, 200) : undefined);

/** The capture facts in an EXIF block; whatever is missing or unreadable is left out. */
export function readCapture(exif: Buffer | undefined): CaptureMetadata {
  if (!exif) return {};
  try {
    const tags = exifReader(exif);
    const taken = tags.Photo?.DateTimeOriginal ?? tags.Image?.DateTime;
    const latitude = degrees(tags.GPSInfo?.GPSLatitude, tags.GPSInfo?.GPSLatitudeRef, "S");
    const longitude = degrees(tags.GPSInfo?.GPSLongitude, tags.GPSInfo?.GPSLongitudeRef, "W");
    const valid = latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
    return {
      ...(taken instanceof Date && !Number.isNaN(taken.getTime()) ? { takenAt: inUtc(taken, tags.Photo?.OffsetTimeOriginal) } : {}),
      ...(valid ? { latitude, longitude } : {}),
      ...(text(tags.Image?.Make) ? { make: text(tags.Image?.Make) } : {}),
      ...(text(tags.Image?.Model) ? { model: text(tags.Image?.Model) } : {}),
      ...(text(tags.Image?.Software) ? { software: text(tags.Image?.Software) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * A photo to decode: its bytes, or a local file holding them (a photo in
 * the directory store). A file is read by the decoder itself, so in the
 * decoder process (photo.process.ts) the server's event loop never copies
 * or sends the bytes.
 */
export type PhotoInput = Buffer | { file: string };

/**
 * What the upload path and the Guardian ask of a decoder: PhotoDecoder in
 * the server process, or DecoderProcess (photo.process.ts), which runs a
 * PhotoDecoder in a child process of lower CPU priority and answers the same.
 */
export interface PhotoWork {
  readonly maxMegapixels: number;
  decode(photo: PhotoInput, fit?: ModelFit): Promise<Decoded | undefined>;
  copies(photo: PhotoInput): Promise<PhotoCopies | undefined>;
  hashes(photo: PhotoInput): Promise<string[] | undefined>;
}

/**
 * The SHA-256 of a photo, hex: hashed by WebCrypto on the thread pool, so a
 * photo of several megabytes does not hold the event loop while it is hashed.
 */
export async function sha256Of(photo: PhotoInput): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", await bytesOf(photo))).toString("hex");
}

/** The bytes of a photo input: a file is read (by the caller's thread pool, off its event loop). */
export const bytesOf = (photo: PhotoInput): Promise<Buffer> => (Buffer.isBuffer(photo) ? Promise.resolve(photo) : readFile(photo.file));

/** Lets at most `size` tasks run at once. */
class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * A JPEG copy of at most `edge` px: sharp writes no metadata unless asked
 * (withMetadata/keepExif), so the copies carry none. Encoded by
 * libjpeg-turbo's baseline encoder with optimised Huffman tables, not
 * mozjpeg's: for a 1600 px display copy mozjpeg's trellis quantisation and
 * scan search took about 180 ms of CPU of the 240 ms the copies of a
 * 12-megapixel photo cost, for files about 20% smaller (docs/performance.md,
 * Guardian). The window hashes are taken of the display copy, so this
 * encoder is part of the hash method (HASH_VERSION 2).
 */
const shrink = (image: Sharp, edge: number) => image.resize(edge, edge, { fit: "inside", withoutEnlargement: true }).toColourspace("srgb").jpeg({ quality: 82 }).toBuffer();

/**
 * Decodes photos with sharp (libvips, on its own threads off the event
 * loop). Every decode is whole (a truncated or corrupt file fails: `failOn`),
 * bounded in pixels (a small file claiming a huge canvas is refused from its
 * header: `limitInputPixels`) and upright (EXIF orientation applied). At most
 * `concurrency` photos are decoded at once, which bounds the memory decoding
 * takes.
 */
export class PhotoDecoder implements PhotoWork {
  private readonly gate: Gate;

  constructor(
    readonly maxMegapixels: number,
    concurrency: number,
  ) {
    this.gate = new Gate(concurrency);
  }

  private open(data: Buffer): Sharp {
    return sharp(data, { failOn: "error", limitInputPixels: this.maxMegapixels * 1_000_000 }).autoOrient();
  }

  /**
   * Decodes a photo in full; undefined when it is not a whole JPEG, PNG or
   * WebP within the pixel bound. With `fit`, a photo larger than a vision
   * model should be sent also gets a smaller JPEG copy (quality 85).
   */
  decode(photo: PhotoInput, fit?: ModelFit): Promise<Decoded | undefined> {
    return this.gate.run(async () => {
      const data = await bytesOf(photo);
      const header = await this.header(data);
      if (!header) return undefined;
      try {
        const decoded = { ...header, capture: readCapture(header.exif) };
        const large = fit && (Math.max(header.width, header.height) > fit.maxEdge || data.length > fit.maxBytes);
        if (!large) {
          // Every pixel is decoded to raw memory, nothing is encoded. Not stats(): on a truncated PNG
          // libvips's statistics sometimes finish without raising the read error (a corrupt photo judged usable).
          await this.open(data).raw().toBuffer();
          return decoded;
        }
        const model = await this.open(data).resize(fit.maxEdge, fit.maxEdge, { fit: "inside", withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer();
        return { ...decoded, model: { mediaType: "image/jpeg", data: model } };
      } catch {
        return undefined;
      }
    });
  }

  /**
   * The display copy (long edge at most 1600 px) and thumbnail (at most
   * 320 px) of a photo, or undefined when it does not decode. Both are JPEG
   * without any metadata (no EXIF, no GPS): the original keeps those.
   */
  copies(photo: PhotoInput): Promise<PhotoCopies | undefined> {
    return this.gate.run(async () => {
      const data = await bytesOf(photo);
      const header = await this.header(data);
      if (!header) return undefined;
      try {
        const display = await shrink(this.open(data), DISPLAY_EDGE);
        // The thumbnail comes from the display copy: one full decode per photo.
        const [thumbnail, hashes] = await Promise.all([shrink(sharp(display), THUMBNAIL_EDGE), windowHashes(display)]);
        return { display, thumbnail, width: header.width, height: header.height, capture: readCapture(header.exif), hashes };
      } catch {
        return undefined;
      }
    });
  }

  /**
   * The window hashes copies() gives, alone: of the display copy made from
   * the original the same way, so a stored photo hashed again (the background
   * re-hash) gets exactly the hashes an upload of the same bytes gets.
   * Undefined when it does not decode.
   */
  hashes(photo: PhotoInput): Promise<string[] | undefined> {
    return this.gate.run(async () => {
      const data = await bytesOf(photo);
      if (!(await this.header(data))) return undefined;
      try {
        return await windowHashes(await shrink(this.open(data), DISPLAY_EDGE));
      } catch {
        return undefined;
      }
    });
  }

  /** The header of a photo of an accepted type within the pixel bound, upright size. */
  private async header(data: Buffer): Promise<(PhotoHeader & { exif?: Buffer }) | undefined> {
    try {
      const metadata = await sharp(data, { limitInputPixels: this.maxMegapixels * 1_000_000 }).metadata();
      const format = SHARP_FORMATS[metadata.format ?? ""];
      if (!format || !metadata.width || !metadata.height) return undefined;
      const upright = metadata.autoOrient ?? { width: metadata.width, height: metadata.height };
      return { format, width: upright.width, height: upright.height, exif: metadata.exif };
    } catch {
      return undefined;
    }
  }
}
