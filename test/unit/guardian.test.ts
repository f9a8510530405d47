import { expect } from "chai";
import { GuardianService, expectedPhotoCount, notesRequired } from "../../server/guardian/guardian.service";
import { Verdict } from "../../server/guardian/verification.entity";
import sharp from "sharp";
import { generatePhoto } from "../../server/photos/photo.samples";
import { PhotoDecoder } from "../../server/photos/photo.decoder";

describe("offline Guardian", () => {
  const decoder = new PhotoDecoder(50, 2);
  const guardian = new GuardianService({ approveAt: 90, rejectBelow: 50 }, decoder);

  it("reads how many photos the requirements ask for", () => {
    expect(expectedPhotoCount(["4 photos (one per corner)", "Brief notes on visible safety issues"])).to.equal(4);
    expect(expectedPhotoCount(["Full facade photo", "Close-up of signage"])).to.equal(2);
    expect(expectedPhotoCount(["1 photo of the delivered package", "Short note with where it was left"])).to.equal(1);
    expect(expectedPhotoCount(["two pictures of the meter"])).to.equal(2);
    expect(expectedPhotoCount([])).to.equal(1);
    expect(notesRequired(["Short note with where it was left"])).to.equal(true);
    expect(notesRequired(["Full facade photo"])).to.equal(false);
  });

  it("approves every required photo, decodable and distinct, with notes when asked", async () => {
    const result = await guardian.score({ proofRequirements: ["2 photos", "notes on damage"], photos: [generatePhoto(1), generatePhoto(2)], notes: "none" });
    expect(result).to.include({ score: 100, verdict: Verdict.APPROVE });
  });

  it("sends half the photos to manual review, and counts a duplicate once", async () => {
    const half = await guardian.score({ proofRequirements: ["4 photos (one per corner)"], photos: [generatePhoto(1), generatePhoto(2)] });
    expect(half).to.include({ score: 50, verdict: Verdict.REVIEW });
    const duplicate = await guardian.score({ proofRequirements: ["2 photos"], photos: [generatePhoto(3), generatePhoto(3)] });
    expect(duplicate.score).to.equal(50);
    expect(duplicate.reasons.join(" ")).to.match(/photo 2 is a duplicate/);
  });

  it("discounts low-resolution photos and missing notes", async () => {
    const small = await guardian.score({ proofRequirements: ["1 photo"], photos: [generatePhoto(4, 160, 120)] });
    expect(small).to.include({ score: 60, verdict: Verdict.REVIEW });
    const noNotes = await guardian.score({ proofRequirements: ["1 photo", "Short note with where it was left"], photos: [generatePhoto(5)] });
    expect(noNotes).to.include({ score: 80, verdict: Verdict.REVIEW });
  });

  it("rejects photos that do not decode, including a truncated PNG", async () => {
    const good = generatePhoto(6);
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    expect(await decoder.decode(truncated)).to.be.undefined;
    const result = await guardian.score({ proofRequirements: ["1 photo"], photos: [truncated] });
    expect(result).to.include({ score: 0, verdict: Verdict.REJECT });
    expect(result.reasons[0]).to.match(/photo 1 is not a decodable JPEG, PNG or WebP/);
  });

  it("counts in its reason the photos that were usable, not only the distinct ones", async () => {
    const corrupt = (seed: number) => generatePhoto(seed).subarray(0, 100);
    const none = await guardian.score({ proofRequirements: ["2 photos"], photos: [corrupt(7), corrupt(8)] });
    expect(none.reasons).to.include("the requirements ask for 2 photo(s); 0 of 2 distinct photo(s) were usable, worth 0.0");
    const one = await guardian.score({ proofRequirements: ["2 photos"], photos: [generatePhoto(9, 160, 120), corrupt(10), generatePhoto(9, 160, 120)] });
    expect(one.reasons).to.include("the requirements ask for 2 photo(s); 1 of 2 distinct photo(s) were usable, worth 0.6");
  });

  it("refuses, from its header, a small PNG that would decode to more pixels than allowed", async () => {
    const bomb = await sharp({ create: { width: 2_000, height: 1_000, channels: 3, background: "black" } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length, "a few KB on the wire").to.be.below(50_000);
    expect(await new PhotoDecoder(2, 1).decode(bomb), "2 megapixels decode under a bound of 2").to.deep.include({ width: 2_000, height: 1_000 });
    expect(await new PhotoDecoder(1, 1).decode(bomb), "and are refused under a bound of 1").to.be.undefined;
    const strict = new GuardianService({ approveAt: 90, rejectBelow: 50 }, new PhotoDecoder(1, 1));
    const result = await strict.score({ proofRequirements: ["1 photo"], photos: [bomb] });
    expect(result).to.include({ score: 0, verdict: Verdict.REJECT });
    expect(result.reasons[0]).to.match(/not a decodable JPEG, PNG or WebP image \(of at most 1 megapixels\)/);
  });

  it("decodes off the event loop: timers keep running while photos are decoded", async () => {
    const photos = Array.from({ length: 4 }, (_, i) => generatePhoto(100 + i, 1_600, 1_200));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const images = await Promise.all(photos.map((photo) => decoder.decode(photo)));
    clearInterval(ticker);
    expect(images.every((image) => image?.width === 1_600 && image.height === 1_200)).to.equal(true);
    expect(ticks, "timers ran during the decodes").to.be.greaterThan(0);
  });

  it("gives a vision model a smaller JPEG of a large photo, made in the same decode, and small photos as they are", async () => {
    const fit = { maxEdge: 1568, maxBytes: 3_750_000 };
    const large = await decoder.decode(generatePhoto(21, 3_000, 2_000), fit);
    expect(large).to.deep.include({ format: "image/png", width: 3_000, height: 2_000 });
    expect(large!.model!.mediaType).to.equal("image/jpeg");
    expect(await decoder.decode(large!.model!.data), "the copy decodes, long edge 1568").to.deep.include({ format: "image/jpeg", width: 1_568, height: 1_045 });
    const small = await decoder.decode(generatePhoto(22), fit);
    expect(small).to.deep.include({ width: 640, height: 480 });
    expect(small!.model, "already small enough").to.equal(undefined);
    expect((await decoder.decode(generatePhoto(23, 3_000, 2_000)))!.model, "no copy unless asked").to.equal(undefined);
  });

  it("follows configured thresholds", () => {
    const strict = new GuardianService({ approveAt: 100, rejectBelow: 60 }, decoder);
    expect(strict.verdictFor(99)).to.equal(Verdict.REVIEW);
    expect(strict.verdictFor(59)).to.equal(Verdict.REJECT);
    expect(strict.verdictFor(100)).to.equal(Verdict.APPROVE);
  });
});
