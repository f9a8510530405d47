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

/** Brightness of a coarse 7×6 grid of random levels, smoothly interpolated: light and shade a perceptual hash can tell apart. */
function shading(seed: number): (u: number, v: number) => number {
  const random = seededRandom(seed);
  const [columns, rows] = [7, 6];
  const grid = Array.from({ length: columns * rows }, () => random() * 160 - 80);
  return (u, v) => {
    const x = u * (columns - 1);
    const y = v * (rows - 1);
    const [x0, y0] = [Math.min(Math.floor(x), columns - 2), Math.min(Math.floor(y), rows - 2)];
    const [fx, fy] = [x - x0, y - y0];
    const at = (cx: number, cy: number) => grid[cy * columns + cx];
    return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
  };
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
  const shade = shading(seed);
  const stride = 1 + width * 3;
  const rows = Buffer.alloc(stride * height);
  const row = Buffer.alloc(width * 3);
  const clamp = (value: number) => Math.max(0, Math.min(255, Math.round(value)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const light = shade(x / Math.max(1, width - 1), y / Math.max(1, height - 1));
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
