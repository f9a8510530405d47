import { expect } from "chai";
import { GuardianService, expectedPhotoCount, notesRequired } from "../../server/guardian/guardian.service";
import { Verdict } from "../../server/guardian/verification.entity";
import { decodeImage, generatePhoto } from "../../server/guardian/image";

const guardian = new GuardianService({ approveAt: 90, rejectBelow: 50 });

describe("offline Guardian", () => {
  it("reads how many photos the requirements ask for", () => {
    expect(expectedPhotoCount(["4 photos (one per corner)", "Brief notes on visible safety issues"])).to.equal(4);
    expect(expectedPhotoCount(["Full facade photo", "Close-up of signage"])).to.equal(2);
    expect(expectedPhotoCount(["1 photo of the delivered package", "Short note with where it was left"])).to.equal(1);
    expect(expectedPhotoCount(["two pictures of the meter"])).to.equal(2);
    expect(expectedPhotoCount([])).to.equal(1);
    expect(notesRequired(["Short note with where it was left"])).to.equal(true);
    expect(notesRequired(["Full facade photo"])).to.equal(false);
  });

  it("approves every required photo, decodable and distinct, with notes when asked", () => {
    const result = guardian.score({ proofRequirements: ["2 photos", "notes on damage"], photos: [generatePhoto(1), generatePhoto(2)], notes: "none" });
    expect(result).to.include({ score: 100, verdict: Verdict.APPROVE });
  });

  it("sends half the photos to manual review, and counts a duplicate once", () => {
    const half = guardian.score({ proofRequirements: ["4 photos (one per corner)"], photos: [generatePhoto(1), generatePhoto(2)] });
    expect(half).to.include({ score: 50, verdict: Verdict.REVIEW });
    const duplicate = guardian.score({ proofRequirements: ["2 photos"], photos: [generatePhoto(3), generatePhoto(3)] });
    expect(duplicate.score).to.equal(50);
    expect(duplicate.reasons.join(" ")).to.match(/photo 2 is a duplicate/);
  });

  it("discounts low-resolution photos and missing notes", () => {
    const small = guardian.score({ proofRequirements: ["1 photo"], photos: [generatePhoto(4, 160, 120)] });
    expect(small).to.include({ score: 60, verdict: Verdict.REVIEW });
    const noNotes = guardian.score({ proofRequirements: ["1 photo", "Short note with where it was left"], photos: [generatePhoto(5)] });
    expect(noNotes).to.include({ score: 80, verdict: Verdict.REVIEW });
  });

  it("rejects photos that do not decode, including a truncated PNG", () => {
    const good = generatePhoto(6);
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    expect(decodeImage(truncated)).to.be.undefined;
    const result = guardian.score({ proofRequirements: ["1 photo"], photos: [truncated] });
    expect(result).to.include({ score: 0, verdict: Verdict.REJECT });
    expect(result.reasons[0]).to.match(/photo 1 is not a decodable PNG or JPEG/);
  });

  it("follows configured thresholds", () => {
    const strict = new GuardianService({ approveAt: 100, rejectBelow: 60 });
    expect(strict.verdictFor(99)).to.equal(Verdict.REVIEW);
    expect(strict.verdictFor(59)).to.equal(Verdict.REJECT);
    expect(strict.verdictFor(100)).to.equal(Verdict.APPROVE);
  });
});
