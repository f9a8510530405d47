import { expect } from "chai";
import sharp from "sharp";
import { mockPhoto } from "../../server/testmode/mock-photo";
import { hammingDistance, hashBands, HASH_WINDOWS, NEAR_DUPLICATE_BITS, windowHashes } from "../../server/photos/photo.hash";

/** How far a copy's whole-frame hash is from the nearest window of the original, and whether they share a band (what the index finds). */
function nearest(original: string[], copy: string[]): { bits: number; sharesBand: boolean } {
  const distances = original.map((hash) => hammingDistance(hash, copy[0]));
  const window = distances.indexOf(Math.min(...distances));
  const sharesBand = hashBands(original[window]).some((band, k) => band === hashBands(copy[0])[k]);
  return { bits: distances[window], sharesBand };
}

const crop = (photo: Buffer, left: number, top: number, width: number, height: number) =>
  sharp(photo).extract({ left: Math.round(left * 1280), top: Math.round(top * 960), width: Math.round(width * 1280), height: Math.round(height * 960) }).jpeg({ quality: 85 }).toBuffer();

/** Ways a reused photo is disguised: every one must stay within NEAR_DUPLICATE_BITS of a window of the original. */
const DISGUISES: Record<string, (photo: Buffer) => Promise<Buffer>> = {
  "resized to 50%": (photo) => sharp(photo).resize(640).jpeg({ quality: 85 }).toBuffer(),
  "recompressed at quality 60": (photo) => sharp(photo).jpeg({ quality: 60 }).toBuffer(),
  "cropped 10% around the centre": (photo) => crop(photo, 0.05, 0.05, 0.9, 0.9),
  "cropped 10% off the top-left corner": (photo) => crop(photo, 0.1, 0.1, 0.9, 0.9),
  "cropped 10% off the right side": (photo) => crop(photo, 0, 0, 0.9, 1),
  "cropped 10% off the bottom": (photo) => crop(photo, 0, 0, 1, 0.9),
  "cropped 10% off the bottom-right, then resized to 60% at quality 60": async (photo) => sharp(await crop(photo, 0, 0, 0.9, 0.9)).resize(690).jpeg({ quality: 60 }).toBuffer(),
};

describe("perceptual hashes of photo windows (the reuse check)", function () {
  this.timeout(30_000);
  const photos: Buffer[] = [];
  const hashes: string[][] = [];

  before(async () => {
    for (let i = 0; i < 8; i++) photos.push(await mockPhoto({ title: `Storefront ${i}`, seed: `hash-${i}`, lat: 30.2672, lng: -97.7431, takenAt: new Date("2026-12-01T10:00:00Z") }));
    hashes.push(...(await Promise.all(photos.map(windowHashes))));
  });

  it(`gives every photo ${HASH_WINDOWS.length} hashes, the whole frame's first`, () => {
    for (const set of hashes) {
      expect(set).to.have.length(HASH_WINDOWS.length);
      for (const hash of set) expect(hash).to.match(/^[0-9a-f]{16}$/);
    }
  });

  for (const [name, disguise] of Object.entries(DISGUISES)) {
    it(`finds a copy ${name}: within ${NEAR_DUPLICATE_BITS} bits of a window of the original, sharing a band`, async () => {
      for (const [i, photo] of photos.entries()) {
        const copy = await windowHashes(await disguise(photo));
        expect(nearest(hashes[i], copy), `photo ${i}`).to.deep.include({ sharesBand: true }).and.satisfy((n: { bits: number }) => n.bits <= NEAR_DUPLICATE_BITS);
      }
    });
  }

  it("would miss a 10% crop with the whole frame's hash alone (why the windows exist)", async () => {
    const missed = await Promise.all(photos.map(async (photo, i) => hammingDistance(hashes[i][0], (await windowHashes(await crop(photo, 0.1, 0.1, 0.9, 0.9)))[0]) > NEAR_DUPLICATE_BITS));
    expect(missed.filter(Boolean).length).to.be.at.least(photos.length / 2);
  });

  it("keeps different photos apart: no window of one is within the distance of another's whole frame", () => {
    for (let i = 0; i < hashes.length; i++) {
      for (let j = 0; j < hashes.length; j++) if (i !== j) expect(nearest(hashes[i], hashes[j]).bits, `photos ${i} and ${j}`).to.be.above(NEAR_DUPLICATE_BITS);
    }
  });
});
