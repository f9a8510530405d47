import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A small deterministic generator (mulberry32): the same seed always paints the same scene. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Brightness of a coarse 7×6 grid of random levels, smoothly (bilinearly)
 * interpolated over the canvas: light and shade a perceptual hash can tell
 * apart. Returned as one value per pixel, row by row.
 */
function shading(seed: number, width: number, height: number): Float32Array {
  const random = seededRandom(seed);
  const [columns, rows] = [7, 6];
  const grid = Array.from({ length: columns * rows }, () => random() * 160 - 80);
  const cell = (position: number, size: number, cells: number) => {
    const at = (position / Math.max(1, size - 1)) * (cells - 1);
    const index = Math.min(Math.floor(at), cells - 2);
    return [index, at - index] as const;
  };
  const xs = Array.from({ length: width }, (_, x) => cell(x, width, columns));
  const light = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const [y0, fy] = cell(y, height, rows);
    const top = y0 * columns;
    const bottom = top + columns;
    for (let x = 0; x < width; x++) {
      const [x0, fx] = xs[x];
      const upper = grid[top + x0] * (1 - fx) + grid[top + x0 + 1] * fx;
      const lower = grid[bottom + x0] * (1 - fx) + grid[bottom + x0 + 1] * fx;
      light[y * width + x] = upper * (1 - fy) + lower * fy;
    }
  }
  return light;
}

/**
 * A PNG photo made for tests: a smooth RGB gradient whose colours come from
 * `seed` under a coarse pattern of light and shade also drawn from it, so
 * every seed gives distinct bytes and a distinct perceptual hash. Written
 * synchronously (8-bit RGB, the Sub filter, which turns smooth rows into
 * small differences that deflate well).
 */
export function generatePhoto(seed: number, width = 640, height = 480): Buffer {
  const r0 = (seed * 53) % 256;
  const g0 = (seed * 97) % 256;
  const b0 = (seed * 193) % 256;
  const shade = shading(seed, width, height);
  const stride = 1 + width * 3;
  const rows = Buffer.alloc(stride * height);
  const row = Buffer.alloc(width * 3);
  const clamp = (value: number) => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const light = shade[y * width + x];
      row[x * 3] = clamp(r0 / 2 + 64 + (64 * x) / width + light);
      row[x * 3 + 1] = clamp(g0 / 2 + 64 + (64 * y) / height + light);
      row[x * 3 + 2] = clamp(b0 / 2 + 64 + (32 * (x + y)) / (width + height) + light);
    }
    // The Sub filter: each byte stored as its difference from the same channel of the pixel to its left.
    rows[y * stride] = 1;
    for (let i = 0; i < row.length; i++) rows[y * stride + 1 + i] = (row[i] - (i >= 3 ? row[i - 3] : 0)) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, adaptive filtering, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}
