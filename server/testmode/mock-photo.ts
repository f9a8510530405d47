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

/** An RGB colour from hue (degrees), saturation and lightness (0-1), by CSS's hsl() formula. */
function hsl(hue: number, saturation: number, lightness: number): [number, number, number] {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [channel(0), channel(8), channel(4)];
}

const hex = (colour: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];

/** RGB pixels, row by row, that the scene is painted into. */
interface Canvas {
  pixels: Buffer;
  width: number;
  height: number;
}

/** Fills a rectangle (clipped to the canvas) with one colour. */
function fill(canvas: Canvas, x: number, y: number, w: number, h: number, [r, g, b]: [number, number, number]): void {
  const [x0, y0] = [Math.max(0, Math.round(x)), Math.max(0, Math.round(y))];
  const [x1, y1] = [Math.min(canvas.width, Math.round(x + w)), Math.min(canvas.height, Math.round(y + h))];
  for (let row = y0; row < y1; row++) {
    for (let i = (row * canvas.width + x0) * 3, end = (row * canvas.width + x1) * 3; i < end; i += 3) {
      canvas.pixels[i] = r;
      canvas.pixels[i + 1] = g;
      canvas.pixels[i + 2] = b;
    }
  }
}

/** A rectangle with an outline of `stroke` px centred on its edge, as SVG draws one. */
function outlined(canvas: Canvas, x: number, y: number, w: number, h: number, colour: [number, number, number], stroke: number): void {
  fill(canvas, x - stroke / 2, y - stroke / 2, w + stroke, h + stroke, hex("#222222"));
  fill(canvas, x + stroke / 2, y + stroke / 2, w - stroke, h - stroke, colour);
}

/**
 * The scene's light and shade: a coarse 8×6 grid of colours drawn from the
 * seed, smoothly interpolated over the whole frame (smoothstep between grid
 * points, row by row), straight into RGB pixels: a few milliseconds of
 * arithmetic where a libvips upscale and composite of the whole frame took
 * tens (docs/performance.md, Settlement).
 */
function shade(random: () => number, width: number, height: number): Canvas {
  const [columns, rows] = [8, 6];
  const grid = Float32Array.from({ length: columns * rows * 3 }, () => 40 + random() * 200);
  const smooth = (t: number) => t * t * (3 - 2 * t);
  // Where a pixel falls between grid points (centres of the grid's cells, as an image scaled up puts them): the point before it, and the weight of the one after.
  const between = (position: number, size: number, cells: number): [number, number] => {
    const at = Math.max(0, Math.min(cells - 1, ((position + 0.5) / size) * cells - 0.5));
    const index = Math.min(Math.floor(at), cells - 2);
    return [index, smooth(at - index)];
  };
  const lefts = new Int32Array(width);
  const weights = new Float32Array(width);
  for (let x = 0; x < width; x++) [lefts[x], weights[x]] = between(x, width, columns);
  const pixels = Buffer.alloc(width * height * 3);
  const line = new Float32Array(columns * 3);
  for (let y = 0; y < height; y++) {
    const [top, fy] = between(y, height, rows);
    for (let i = 0; i < columns * 3; i++) line[i] = grid[top * columns * 3 + i] * (1 - fy) + grid[(top + 1) * columns * 3 + i] * fy;
    let out = y * width * 3;
    for (let x = 0; x < width; x++) {
      const at = lefts[x] * 3;
      const fx = weights[x];
      pixels[out++] = (line[at] + (line[at + 3] - line[at]) * fx) | 0;
      pixels[out++] = (line[at + 1] + (line[at + 4] - line[at + 1]) * fx) | 0;
      pixels[out++] = (line[at + 2] + (line[at + 5] - line[at + 2]) * fx) | 0;
    }
  }
  return { pixels, width, height };
}

/** SVG drawn over the canvas in a box (clipped to the canvas), from SVG in the canvas's coordinates: only the box is rasterised. */
interface Overlay {
  svg: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** An overlay's box as RGBA pixels, where it goes on the canvas. */
interface Raster {
  x: number;
  y: number;
  w: number;
  h: number;
  rgba: Buffer;
}

/** Rasterises an overlay's box, clipped to the canvas (librsvg, on sharp's threads); undefined when nothing of it is on the canvas. */
async function rasterise(overlay: Overlay, width: number, height: number): Promise<Raster | undefined> {
  const [x, y] = [Math.max(0, Math.floor(overlay.x)), Math.max(0, Math.floor(overlay.y))];
  const [w, h] = [Math.min(width, Math.ceil(overlay.x + overlay.w)) - x, Math.min(height, Math.ceil(overlay.y + overlay.h)) - y];
  if (w <= 0 || h <= 0) return undefined;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><g transform="translate(${-x} ${-y})">${overlay.svg}</g></svg>`;
  return { x, y, w, h, rgba: await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer() };
}

/** Blends a raster into the canvas by its alpha (source over). */
function blend(canvas: Canvas, { x, y, w, h, rgba }: Raster): void {
  for (let row = 0; row < h; row++) {
    let out = ((y + row) * canvas.width + x) * 3;
    for (let i = row * w * 4, end = i + w * 4; i < end; i += 4, out += 3) {
      const alpha = rgba[i + 3];
      if (alpha === 0) continue;
      const a = alpha / 255;
      canvas.pixels[out] = (rgba[i] * a + canvas.pixels[out] * (1 - a)) | 0;
      canvas.pixels[out + 1] = (rgba[i + 1] * a + canvas.pixels[out + 1] * (1 - a)) | 0;
      canvas.pixels[out + 2] = (rgba[i + 2] * a + canvas.pixels[out + 2] * (1 - a)) | 0;
    }
  }
}

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
 *
 * The light and shade, the storefront and the caption's band are painted
 * into RGB pixels directly; only the text (the caption, the sheet with the
 * code) goes through SVG, each in its own small box; the frame is then
 * encoded once. Painting the whole frame as an SVG composited over a PNG
 * scene took about 100 ms of CPU per photo, which the mock operator spent
 * twice per settled task.
 */
export async function mockPhoto(shot: MockShot): Promise<Buffer> {
  const { width = 1280, height = 960 } = shot;
  const random = seededRandom(createHash("sha256").update(shot.seed).digest().readUInt32BE(0));
  const canvas = shade(random, width, height);
  const shop = { x: Math.round(width * (0.15 + random() * 0.3)), w: Math.round(width * 0.4), y: Math.round(height * 0.35), h: Math.round(height * 0.45) };
  const hue = Math.floor(random() * 360);
  outlined(canvas, shop.x, shop.y, shop.w, shop.h, hsl(hue, 0.35, 0.45), 6);
  fill(canvas, shop.x + shop.w * 0.1, shop.y + shop.h * 0.35, shop.w * 0.35, shop.h * 0.65, hex("#3a2a1a"));
  outlined(canvas, shop.x + shop.w * 0.55, shop.y + shop.h * 0.35, shop.w * 0.35, shop.h * 0.3, hex("#9cc4e4"), 4);
  fill(canvas, shop.x, shop.y - height * 0.08, shop.w, height * 0.08, hsl((hue + 180) % 360, 0.6, 0.35));
  // The caption's band: black at 55% over the scene.
  for (let i = Math.max(0, height - 90) * width * 3; i < canvas.pixels.length; i++) canvas.pixels[i] = (canvas.pixels[i] * 0.45) | 0;
  const overlays: Overlay[] = [
    {
      svg: `<text x="24" y="${height - 52}" font-family="DejaVu Sans, sans-serif" font-size="30" fill="#fff">${escapeXml(shot.title.slice(0, 80))}</text>
  <text x="24" y="${height - 16}" font-family="DejaVu Sans, sans-serif" font-size="22" fill="#ddd">HumanOps test mode · ${escapeXml(exifTime(shot.takenAt))} UTC · ${shot.lat.toFixed(5)}, ${shot.lng.toFixed(5)}</text>`,
      x: 0,
      y: height - 90,
      w: width,
      h: 90,
    },
    ...(shot.captureCode ? [captureCodeSheet(shot.captureCode, width, height)] : []),
  ];
  // Rasterised side by side, blended in order (the sheet is drawn over the band).
  for (const raster of await Promise.all(overlays.map((overlay) => rasterise(overlay, width, height)))) if (raster) blend(canvas, raster);
  return sharp(canvas.pixels, { raw: { width, height, channels: 3 } })
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

/** A sheet of paper held up in the lower right of the frame, with the code in large dark letters (tilted 4°: its box has room for that). */
function captureCodeSheet(code: string, width: number, height: number): Overlay {
  const w = Math.round(width * 0.26);
  const h = Math.round(w * 0.5);
  const x = width - w - Math.round(width * 0.05);
  const y = height - 90 - h - Math.round(height * 0.04);
  const margin = Math.ceil(Math.max(w, h) * 0.07) + 2;
  return {
    svg: `<g transform="rotate(-4 ${x + w / 2} ${y + h / 2})">
    <rect x="${x}" y="${y}" width="${w}" height="${h}" fill="#f7f5ee" stroke="#999" stroke-width="2"/>
    <text x="${x + w / 2}" y="${y + h * 0.66}" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" font-weight="bold" font-size="${Math.round(h * 0.42)}" fill="#111">${escapeXml(code)}</text>
  </g>`,
    x: x - margin,
    y: y - margin,
    w: w + 2 * margin,
    h: h + 2 * margin,
  };
}

/** A reused photo as a cheat would send it: scaled to 90% and recompressed, its metadata gone. */
export function recompressed(photo: Buffer): Promise<Buffer> {
  return sharp(photo)
    .metadata()
    .then(({ width = 1280 }) => sharp(photo).autoOrient().resize(Math.round(width * 0.9)).jpeg({ quality: 70 }).toBuffer());
}
