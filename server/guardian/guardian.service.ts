import { createHash } from "node:crypto";
import type { ImageDecoder } from "./image-decoder";
import { Verdict } from "./verification.entity";

export interface GuardianThresholds {
  approveAt: number;
  rejectBelow: number;
}

export interface ProofForScoring {
  proofRequirements: string[];
  photos: Buffer[];
  notes?: string;
}

export interface GuardianResult {
  score: number;
  verdict: Verdict;
  reasons: string[];
  scorer: string;
}

/** Photos smaller than this still count, at a discount: details are hard to check. */
const MIN_WIDTH = 320;
const MIN_HEIGHT = 240;
const LOW_RESOLUTION_CREDIT = 0.6;
const MISSING_NOTES_FACTOR = 0.8;
const NUMBER_WORDS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };

/**
 * How many photos the requirements ask for: "4 photos (one per corner)" asks
 * for 4, "Close-up of signage" for 1 when it names a photo-like thing, and a
 * task always needs at least one photo.
 */
export function expectedPhotoCount(requirements: string[]): number {
  let total = 0;
  for (const requirement of requirements) {
    const text = requirement.toLowerCase();
    const counted = /\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:clear\s+|close-up\s+)?(?:photos?|pictures?|images?|shots?)\b/.exec(text);
    if (counted) total += NUMBER_WORDS[counted[1]] ?? Number(counted[1]);
    else if (/\b(photo|picture|image|shot|close-up|snapshot)s?\b/.test(text)) total += 1;
  }
  return Math.max(1, total);
}

export function notesRequired(requirements: string[]): boolean {
  return requirements.some((requirement) => /\b(note|notes|describe|description|explain|comment)\b/i.test(requirement));
}

/**
 * The offline Guardian: checks what can be checked without a vision model,
 * honestly. Every photo must decode as a real PNG or JPEG; duplicates count
 * once; low-resolution photos count partly; the number of good photos is
 * compared with what the requirements ask for; notes must be there when asked.
 */
export class GuardianService {
  static readonly SCORER = "offline-v1";

  constructor(
    private readonly thresholds: GuardianThresholds,
    private readonly decoder: ImageDecoder,
  ) {}

  /** Ends the decoding threads. */
  close(): Promise<void> {
    return this.decoder.close();
  }

  verdictFor(score: number): Verdict {
    if (score >= this.thresholds.approveAt) return Verdict.APPROVE;
    if (score < this.thresholds.rejectBelow) return Verdict.REJECT;
    return Verdict.REVIEW;
  }

  /** Scores proof; the photos are decoded side by side off the event loop. */
  async score(proof: ProofForScoring): Promise<GuardianResult> {
    const reasons: string[] = [];
    const expected = expectedPhotoCount(proof.proofRequirements);
    const seen = new Set<string>();
    const distinct = proof.photos.map((photo) => {
      const digest = createHash("sha256").update(photo).digest("hex");
      const duplicate = seen.has(digest);
      seen.add(digest);
      return duplicate ? undefined : photo;
    });
    const images = await Promise.all(distinct.map((photo) => (photo ? this.decoder.decode(photo) : undefined)));
    let credit = 0;
    distinct.forEach((photo, index) => {
      const label = `photo ${index + 1}`;
      const image = images[index];
      if (!photo) {
        reasons.push(`${label} is a duplicate of an earlier photo`);
      } else if (!image) {
        reasons.push(`${label} is not a decodable PNG or JPEG image (of at most ${this.decoder.maxMegapixels} megapixels)`);
      } else if (image.width < MIN_WIDTH || image.height < MIN_HEIGHT) {
        reasons.push(`${label} is ${image.width}x${image.height}, below ${MIN_WIDTH}x${MIN_HEIGHT}`);
        credit += LOW_RESOLUTION_CREDIT;
      } else {
        credit += 1;
      }
    });
    if (credit < expected) {
      reasons.push(`the requirements ask for ${expected} photo(s); ${seen.size} distinct photo(s) were usable for ${credit.toFixed(1)}`);
    }
    let score = (100 * Math.min(credit, expected)) / expected;
    if (notesRequired(proof.proofRequirements) && !proof.notes?.trim()) {
      reasons.push("the requirements ask for notes and none were given");
      score *= MISSING_NOTES_FACTOR;
    }
    const rounded = Math.round(score);
    if (reasons.length === 0) reasons.push(`all ${expected} required photo(s) present and decodable`);
    return { score: rounded, verdict: this.verdictFor(rounded), reasons, scorer: GuardianService.SCORER };
  }
}
