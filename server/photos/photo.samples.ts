import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG photo made for tests and the test-mode mock operator: a smooth RGB
 * gradient whose colours come from `seed`, so every seed gives distinct
 * bytes. Written synchronously (8-bit RGB, the Sub filter, which turns a
 * gradient into runs that deflate to a few KB).
 */
export function generatePhoto(seed: number, width = 640, height = 480): Buffer {
  const r0 = (seed * 53) % 256;
  const g0 = (seed * 97) % 256;
  const b0 = (seed * 193) % 256;
  const stride = 1 + width * 3;
  const rows = Buffer.alloc(stride * height);
  const row = Buffer.alloc(width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      row[x * 3] = (r0 + x) % 256;
      row[x * 3 + 1] = (g0 + y) % 256;
      row[x * 3 + 2] = (b0 + x + y) % 256;
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
