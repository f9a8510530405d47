import { createHash } from "node:crypto";
import sharp from "sharp";
import { seededRandom } from "../photos/photo.samples";

/** What a mock photo shows and where and when the mock camera says it was taken. */
export interface MockShot {
  title: string;
  /** Makes each photo distinct: the task, the attempt and the photo's position. */
  seed: string;
  lat: number;
  lng: number;
  takenAt: Date;
  width?: number;
  height?: number;
  /** The task's capture code, held up on a sheet of paper in the scene (as the operator is asked to). */
  captureCode?: string;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Degrees as EXIF writes them: degrees, minutes and seconds as rationals. */
function exifDegrees(value: number): string {
  const abs = Math.abs(value);
  const degrees = Math.floor(abs);
  const minutes = Math.floor((abs - degrees) * 60);
  const milliseconds = Math.round(((abs - degrees) * 60 - minutes) * 60_000);
  return `${degrees}/1 ${minutes}/1 ${milliseconds}/1000`;
}

/** "YYYY:MM:DD HH:MM:SS" in UTC, as EXIF DateTimeOriginal writes it (with OffsetTimeOriginal +00:00). */
const exifTime = (at: Date) => at.toISOString().slice(0, 19).replace("T", " ").replace(/-/g, ":");

/**
 * A photo as a phone would take it, for test mode: a JPEG (1280×960 by
 * default) of a scene of light and shade drawn from the seed, a storefront,
 * and a caption with the task's title, carrying EXIF like a camera's (make,
 * model, capture time, GPS). The scene decides its perceptual hash, so every
 * seed gives a distinct one. The text is drawn through SVG with the system's
 * fonts; without any font installed the caption is simply missing. With a
 * capture code the scene has a sheet of paper showing it, and the EXIF
 * ImageDescription says so: no model reads pixels in tests, so the fake
 * vision server (test/support/fake-vision.ts) reads that line instead.
 */
export async function mockPhoto(shot: MockShot): Promise<Buffer> {
  const { width = 1280, height = 960 } = shot;
  const random = seededRandom(createHash("sha256").update(shot.seed).digest().readUInt32BE(0));
  const [columns, rows] = [8, 6];
  const sky = Buffer.from(Array.from({ length: columns * rows * 3 }, () => Math.floor(40 + random() * 200)));
  const scene = await sharp(sky, { raw: { width: columns, height: rows, channels: 3 } }).resize(width, height, { kernel: "cubic", fit: "fill" }).png().toBuffer();
  const shop = { x: Math.round(width * (0.15 + random() * 0.3)), w: Math.round(width * 0.4), y: Math.round(height * 0.35), h: Math.round(height * 0.45) };
  const hue = Math.floor(random() * 360);
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="${shop.x}" y="${shop.y}" width="${shop.w}" height="${shop.h}" fill="hsl(${hue},35%,45%)" stroke="#222" stroke-width="6"/>
  <rect x="${shop.x + shop.w * 0.1}" y="${shop.y + shop.h * 0.35}" width="${shop.w * 0.35}" height="${shop.h * 0.65}" fill="#3a2a1a"/>
  <rect x="${shop.x + shop.w * 0.55}" y="${shop.y + shop.h * 0.35}" width="${shop.w * 0.35}" height="${shop.h * 0.3}" fill="#9cc4e4" stroke="#222" stroke-width="4"/>
  <rect x="${shop.x}" y="${shop.y - height * 0.08}" width="${shop.w}" height="${height * 0.08}" fill="hsl(${(hue + 180) % 360},60%,35%)"/>
  ${shot.captureCode ? captureCodeSheet(shot.captureCode, width, height) : ""}
  <rect x="0" y="${height - 90}" width="${width}" height="90" fill="#000" fill-opacity="0.55"/>
  <text x="24" y="${height - 52}" font-family="DejaVu Sans, sans-serif" font-size="30" fill="#fff">${escapeXml(shot.title.slice(0, 80))}</text>
  <text x="24" y="${height - 16}" font-family="DejaVu Sans, sans-serif" font-size="22" fill="#ddd">HumanOps test mode · ${escapeXml(exifTime(shot.takenAt))} UTC · ${shot.lat.toFixed(5)}, ${shot.lng.toFixed(5)}</text>
</svg>`;
  return sharp(scene)
    .composite([{ input: Buffer.from(overlay) }])
    .jpeg({ quality: 85 })
    .withExif({
      IFD0: { Make: "HumanOps", Model: "Test-mode camera", Software: "HumanOps mock operator", ...(shot.captureCode && { ImageDescription: captureCodeDescription(shot.captureCode) }) },
      IFD2: { DateTimeOriginal: exifTime(shot.takenAt), OffsetTimeOriginal: "+00:00" },
      IFD3: {
        GPSLatitudeRef: shot.lat < 0 ? "S" : "N",
        GPSLatitude: exifDegrees(shot.lat),
        GPSLongitudeRef: shot.lng < 0 ? "W" : "E",
        GPSLongitude: exifDegrees(shot.lng),
      },
    })
    .toBuffer();
}

/** What a mock photo's EXIF says it shows, when it shows a capture code. */
export const captureCodeDescription = (code: string) => `Shows capture code ${code} on paper`;

/** A sheet of paper held up in the lower right of the frame, with the code in large dark letters. */
function captureCodeSheet(code: string, width: number, height: number): string {
  const w = Math.round(width * 0.26);
  const h = Math.round(w * 0.5);
  const x = width - w - Math.round(width * 0.05);
  const y = height - 90 - h - Math.round(height * 0.04);
  return `<g transform="rotate(-4 ${x + w / 2} ${y + h / 2})">
    <rect x="${x}" y="${y}" width="${w}" height="${h}" fill="#f7f5ee" stroke="#999" stroke-width="2"/>
    <text x="${x + w / 2}" y="${y + h * 0.66}" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" font-weight="bold" font-size="${Math.round(h * 0.42)}" fill="#111">${escapeXml(code)}</text>
  </g>`;
}

/** A reused photo as a cheat would send it: scaled to 90% and recompressed, its metadata gone. */
export function recompressed(photo: Buffer): Promise<Buffer> {
  return sharp(photo)
    .metadata()
    .then(({ width = 1280 }) => sharp(photo).autoOrient().resize(Math.round(width * 0.9)).jpeg({ quality: 70 }).toBuffer());
}
