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
 * The difference hash (dHash) of an image: shrunk to 9×8 grey pixels, one bit
 * per pair of horizontal neighbours (is the left one brighter?). Resizing and
 * recompression keep the coarse gradients, so copies land within a few bits.
 */
export async function differenceHash(image: Buffer): Promise<string> {
  const pixels = await sharp(image).greyscale().resize(9, 8, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer();
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) hash = (hash << 1n) | (pixels[y * 9 + x] > pixels[y * 9 + x + 1] ? 1n : 0n);
  }
  return hash.toString(16).padStart(16, "0");
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
