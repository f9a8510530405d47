import sharp from "sharp";

/** A dHash is 64 bits, written as 16 hex digits; it is stored whole and split in BANDS bands of 16 bits for the index. */
export const HASH_BANDS = 4;
/**
 * Photos whose hashes differ in at most this many bits are the same picture
 * (resized, recompressed, lightly cropped). With 4 bands, two hashes that
 * close share at least one band exactly (pigeonhole), so candidates are found
 * by an indexed equality lookup on the bands, then compared in full.
 */
export const NEAR_DUPLICATE_BITS = HASH_BANDS - 1;

/**
 * The windows of a photo that get a hash of their own, as fractions of the
 * frame [left, top, width, height]: the whole frame (window 0, the photo's
 * dHash), then 90% of it anchored at each corner, each edge's middle and the
 * centre, and 90% of one side only (full height or full width). A copy
 * cropped by up to about 10% on any sides shows much the same picture as
 * one of these windows of the original, so its whole-frame hash lands
 * within a few bits of that window's hash, where a single whole-frame hash
 * moves by 10-25 bits (measured in test/photos/photo-hash.test.ts).
 */
export const HASH_WINDOWS: ReadonlyArray<readonly [number, number, number, number]> = (() => {
  const windows: Array<[number, number, number, number]> = [[0, 0, 1, 1]];
  for (const [w, h] of [[0.9, 0.9], [0.9, 1], [1, 0.9]]) {
    const xs = w === 1 ? [0] : [0, (1 - w) / 2, 1 - w];
    const ys = h === 1 ? [0] : [0, (1 - h) / 2, 1 - h];
    for (const x of xs) for (const y of ys) windows.push([x, y, w, h]);
  }
  return windows;
})();

/**
 * Which method a photo's stored hashes come from (proof_photos.hash_version):
 * 0 is the whole-frame dHash alone, from before the windows (the window
 * hashes migration copied it as window 0); 1 is windowHashes() below, every
 * window, of a display copy encoded by mozjpeg; 2 is the same of a display
 * copy encoded by libjpeg-turbo's baseline encoder (photo.decoder.ts: the
 * two differ by 0-2 bits per window, measured on the benchmark's
 * 12-megapixel photos). A photo below the current version is hashed again
 * by the background job in photo.jobs.ts; bump this when the method changes.
 */
export const HASH_VERSION = 2;

/** The grey grid every window is measured on: one decode and shrink by sharp (off the event loop), then a few thousand additions here. */
const GRID_WIDTH = 216;
const GRID_HEIGHT = 192;

/**
 * The difference hash (dHash) of each of the photo's HASH_WINDOWS: the
 * window is divided in 9×8 cells, each cell's mean grey is taken, and there
 * is one bit per pair of horizontal neighbours (is the left one brighter?).
 * Resizing and recompression keep the coarse gradients, so copies land
 * within a few bits. The cell means come from a summed-area table of one
 * 216×192 grey shrink, so all 16 hashes cost one sharp call and well under
 * a millisecond of JavaScript.
 */
export async function windowHashes(image: Buffer): Promise<string[]> {
  const pixels = await sharp(image).autoOrient().greyscale().resize(GRID_WIDTH, GRID_HEIGHT, { fit: "fill" }).raw().toBuffer();
  const stride = GRID_WIDTH + 1;
  const sums = new Float64Array(stride * (GRID_HEIGHT + 1));
  for (let y = 0; y < GRID_HEIGHT; y++) {
    let row = 0;
    for (let x = 0; x < GRID_WIDTH; x++) {
      row += pixels[y * GRID_WIDTH + x];
      sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
    }
  }
  // The summed area up to a fractional point, interpolated between the table's corners.
  const sumTo = (x: number, y: number) => {
    const [xi, yi] = [Math.min(Math.floor(x), GRID_WIDTH - 1), Math.min(Math.floor(y), GRID_HEIGHT - 1)];
    const [fx, fy] = [x - xi, y - yi];
    const at = (i: number, j: number) => sums[j * stride + i];
    return at(xi, yi) * (1 - fx) * (1 - fy) + at(xi + 1, yi) * fx * (1 - fy) + at(xi, yi + 1) * (1 - fx) * fy + at(xi + 1, yi + 1) * fx * fy;
  };
  const mean = (x0: number, y0: number, x1: number, y1: number) => (sumTo(x1, y1) - sumTo(x0, y1) - sumTo(x1, y0) + sumTo(x0, y0)) / ((x1 - x0) * (y1 - y0));
  return HASH_WINDOWS.map(([left, top, width, height]) => {
    const [cellW, cellH, x0, y0] = [(width * GRID_WIDTH) / 9, (height * GRID_HEIGHT) / 8, left * GRID_WIDTH, top * GRID_HEIGHT];
    let hash = 0n;
    for (let y = 0; y < 8; y++) {
      const cells = Array.from({ length: 9 }, (_, x) => mean(x0 + x * cellW, y0 + y * cellH, x0 + (x + 1) * cellW, y0 + (y + 1) * cellH));
      for (let x = 0; x < 8; x++) hash = (hash << 1n) | (cells[x] > cells[x + 1] ? 1n : 0n);
    }
    return hash.toString(16).padStart(16, "0");
  });
}

/** The whole frame's dHash (window 0). */
export async function differenceHash(image: Buffer): Promise<string> {
  return (await windowHashes(image))[0];
}

/** The hash's 16-bit bands, most significant first. */
export function hashBands(hash: string): number[] {
  return Array.from({ length: HASH_BANDS }, (_, i) => parseInt(hash.slice(i * 4, i * 4 + 4), 16));
}

/** How many bits two hashes differ in. */
export function hammingDistance(a: string, b: string): number {
  let diff = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let bits = 0;
  for (; diff; diff &= diff - 1n) bits++;
  return bits;
}
