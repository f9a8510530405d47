import { expect } from "chai";
import sharp from "sharp";
import { GuardianService, WARN_PENALTY, type ProofEvidence } from "../../server/guardian/guardian.service";
import { Verdict } from "../../server/guardian/verification.entity";
import { CheckOutcome } from "../../server/guardian/guardian.checks";
import { PhotoDecoder } from "../../server/photos/photo.decoder";
import { differenceHash, hammingDistance, hashBands, NEAR_DUPLICATE_BITS } from "../../server/photos/photo.hash";
import { generatePhoto } from "../../server/photos/photo.samples";
import { mockPhoto, recompressed } from "../../server/testmode/mock-photo";

const POINT = { lat: 30.2672, lng: -97.7431 };
const ACCEPTED = new Date("2026-12-01T10:00:00Z");
const SUBMITTED = new Date("2026-12-01T10:30:00Z");

/** A phone-like JPEG taken at `at` (metres north of the task's point) and `takenAt`. */
const shot = (seed: string, options: { northM?: number; takenAt?: Date } = {}) =>
  mockPhoto({ title: "Storefront", seed, lat: POINT.lat + (options.northM ?? 0) / 111_195, lng: POINT.lng, takenAt: options.takenAt ?? new Date("2026-12-01T10:10:00Z") });

const evidence = (overrides: Partial<ProofEvidence> = {}): ProofEvidence => ({ point: POINT, acceptedAt: ACCEPTED, submittedAt: SUBMITTED, live: false, photos: [], ...overrides });

describe("Guardian checks", () => {
  const decoder = new PhotoDecoder(50, 2);
  const guardian = new GuardianService({ approveAt: 90, rejectBelow: 50 }, decoder);
  const score = (photos: Buffer[], overrides: Partial<ProofEvidence> = {}) => guardian.score({ proofRequirements: ["1 photo"], photos, evidence: evidence(overrides) });
  const outcome = (result: { checks: Array<{ name: string; outcome: string; detail: string }> }, name: string) => result.checks.find((c) => c.name === name)!;

  it("passes a photo taken at the task's point between acceptance and submission, every check recorded", async () => {
    const result = await score([await shot("good")]);
    expect(result).to.include({ score: 100, verdict: Verdict.APPROVE });
    expect(result.checks.map((c) => `${c.name}:${c.outcome}`)).to.deep.equal(["photos:PASS", "location:PASS", "time:PASS", "reuse:SKIPPED", "recapture:PASS", "vision:SKIPPED", "capture_code:SKIPPED"]);
    expect(outcome(result, "location").detail).to.match(/^taken 0 m from the task's location/);
  });

  it("location: within 300 m passes, between 300 m and 2 km warns, beyond 2 km fails and rejects, no GPS warns", async () => {
    expect(outcome(await score([await shot("near", { northM: 250 })]), "location").outcome).to.equal(CheckOutcome.PASS);
    const between = await score([await shot("between", { northM: 1_000 })]);
    expect(outcome(between, "location")).to.include({ outcome: CheckOutcome.WARN, detail: "taken 1000 m from the task's location (more than 300 m)" });
    expect(between.score).to.equal(100 - WARN_PENALTY);
    const far = await score([await shot("far", { northM: 5_000 })]);
    expect(outcome(far, "location").outcome).to.equal(CheckOutcome.FAIL);
    expect(far).to.include({ score: 49, verdict: Verdict.REJECT });
    const noGps = await score([generatePhoto(1)]);
    expect(outcome(noGps, "location")).to.include({ outcome: CheckOutcome.WARN, photo: 0 });
    expect(outcome(noGps, "location").detail).to.match(/no GPS position/);
  });

  it("a warning counts once per kind of check, however many photos share it", async () => {
    const result = await guardian.score({ proofRequirements: ["2 photos"], photos: [generatePhoto(6), generatePhoto(7)], evidence: evidence() });
    expect(result.checks.filter((c) => c.outcome === CheckOutcome.WARN).map((c) => `${c.name}:${c.photo}`)).to.have.members(["location:0", "location:1", "time:0", "time:1"]);
    expect(result).to.include({ score: 100 - 2 * WARN_PENALTY, verdict: Verdict.APPROVE });
    expect(result.reasons).to.include(`warnings on location, time: ${WARN_PENALTY} points off for each`);
  });

  it("location radii are configurable", async () => {
    const strict = new GuardianService({ approveAt: 90, rejectBelow: 50, evidence: { passWithinM: 50, failBeyondM: 200, clockSkewS: 300 } }, decoder);
    const result = await strict.score({ proofRequirements: ["1 photo"], photos: [await shot("strict", { northM: 250 })], evidence: evidence() });
    expect(outcome(result, "location").outcome).to.equal(CheckOutcome.FAIL);
  });

  it("time: taken before acceptance fails and rejects; within the clock skew allowed passes; after submission or unknown warns", async () => {
    const before = await score([await shot("before", { takenAt: new Date("2026-12-01T09:00:00Z") })]);
    expect(outcome(before, "time").outcome).to.equal(CheckOutcome.FAIL);
    expect(outcome(before, "time").detail).to.equal("taken at 2026-12-01T09:00:00.000Z, before the task was accepted at 2026-12-01T10:00:00.000Z");
    expect(before.verdict).to.equal(Verdict.REJECT);
    const skewed = await score([await shot("skewed", { takenAt: new Date("2026-12-01T09:58:00Z") })]);
    expect(outcome(skewed, "time").outcome, "two minutes early is within the 5 minutes allowed").to.equal(CheckOutcome.PASS);
    const after = await score([await shot("after", { takenAt: new Date("2026-12-01T12:00:00Z") })]);
    expect(outcome(after, "time").outcome).to.equal(CheckOutcome.WARN);
    expect(outcome(await score([generatePhoto(2)]), "time").outcome).to.equal(CheckOutcome.WARN);
  });

  it("reads the capture time in the camera's zone when EXIF names it (OffsetTimeOriginal)", async () => {
    const local = await sharp(generatePhoto(3)).jpeg().withExif({ IFD2: { DateTimeOriginal: "2026:12:01 12:10:00", OffsetTimeOriginal: "+02:00" } }).toBuffer();
    expect((await decoder.decode(local))!.capture.takenAt!.toISOString()).to.equal("2026-12-01T10:10:00.000Z");
  });

  it("reuse: a resized, recompressed copy stays within the near-duplicate distance and shares a hash band; other photos are far", async () => {
    const original = await shot("original");
    const copy = await recompressed(original);
    const [a, b, other] = await Promise.all([differenceHash(original), differenceHash(copy), differenceHash(await shot("another"))]);
    expect(hammingDistance(a, b)).to.be.at.most(NEAR_DUPLICATE_BITS);
    expect(hashBands(a).some((band, i) => band === hashBands(b)[i]), "found through the band index").to.equal(true);
    expect(hammingDistance(a, other)).to.be.above(10);
    const reused = await score([copy], { photos: [{ dhash: b, reuse: { taskId: "0b7e5c1e-0000-4000-8000-000000000001", bits: hammingDistance(a, b) } }] });
    expect(outcome(reused, "reuse").outcome).to.equal(CheckOutcome.FAIL);
    expect(reused.verdict).to.equal(Verdict.REJECT);
    expect(outcome(await score([original], { photos: [{ dhash: a }] }), "reuse").outcome).to.equal(CheckOutcome.PASS);
  });

  it("recapture: screen-sized photos without a camera, and editing programs, warn", async () => {
    const screenshot = await sharp(generatePhoto(4, 1170, 2532)).png().toBuffer();
    const screen = outcome(await score([screenshot]), "recapture");
    expect(screen.outcome).to.equal(CheckOutcome.WARN);
    expect(screen.detail).to.match(/no camera make or model, and screen-like dimensions \(1170x2532\)/);
    const edited = await sharp(await shot("edited")).withExifMerge({ IFD0: { Software: "Adobe Photoshop 25.0" } }).toBuffer();
    expect(outcome(await score([edited]), "recapture")).to.include({ outcome: CheckOutcome.WARN, detail: 'EXIF Software names an editing program ("Adobe Photoshop 25.0")' });
    expect(outcome(await score([generatePhoto(5)]), "recapture").outcome, "a 4:3 photo without EXIF is not screen-like").to.equal(CheckOutcome.PASS);
  });

  it("live proof without a vision model is never approved: the best score is the review band", async () => {
    const result = await score([await shot("live")], { live: true });
    expect(result).to.include({ score: 89, verdict: Verdict.REVIEW });
    expect(outcome(result, "vision")).to.include({ outcome: CheckOutcome.SKIPPED, detail: "no vision model is configured: a person reviews every live proof" });
    expect(result.reasons.join("; ")).to.match(/without a vision model a live proof is never approved automatically/);
    expect(guardian.reviewsLiveProof).to.equal(true);
  });
});
