import { createHash } from "node:crypto";
import type { ModelFit, PhotoDecoder } from "../photos/photo.decoder";
import { Verdict } from "./verification.entity";
import { VisionError, type VisionAssessment, type VisionModel, type VisionPhoto } from "./vision.client";

export interface GuardianThresholds {
  approveAt: number;
  rejectBelow: number;
}

export interface ProofForScoring {
  proofRequirements: string[];
  photos: Buffer[];
  notes?: string;
  /** The task's terms, shown to the vision model. */
  title?: string;
  description?: string;
}

export interface ScoreOptions {
  /** The job's last try: a vision check that still fails sends the proof to manual review instead of throwing. */
  finalAttempt?: boolean;
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
/** The model's own words are clipped: they end up in reasons and in the task's event log. */
const MAX_MODEL_TEXT = 300;
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
 * What a photo may be to go to the model as it is. The Messages API takes at
 * most 5 MB per image and scales anything with a long edge over 1568 px down
 * itself (slower, and billed for the upload), so larger photos go as a JPEG
 * of that size.
 */
const MODEL_FIT: ModelFit = { maxEdge: 1568, maxBytes: 3_750_000 };

const clip = (text: string) => (text.length > MAX_MODEL_TEXT ? `${text.slice(0, MAX_MODEL_TEXT - 1)}…` : text);

/**
 * The Guardian. First the offline checks, honestly what can be checked
 * without a vision model: every photo must decode as a real JPEG, PNG or WebP;
 * duplicates count once; low-resolution photos count partly; the number of
 * good photos is compared with what the requirements ask for; notes must be
 * there when asked. Then, when a vision model is configured and the offline
 * checks have not already rejected the proof, the model looks at the usable
 * photos against the requirements; the lower of the two scores stands.
 */
export class GuardianService {
  static readonly SCORER = "offline-v1";

  constructor(
    private readonly thresholds: GuardianThresholds,
    private readonly decoder: PhotoDecoder,
    private readonly vision?: VisionModel,
  ) {}

  verdictFor(score: number): Verdict {
    if (score >= this.thresholds.approveAt) return Verdict.APPROVE;
    if (score < this.thresholds.rejectBelow) return Verdict.REJECT;
    return Verdict.REVIEW;
  }

  /**
   * Scores proof. A retryable vision failure (overload, timeout) is thrown for
   * the job to retry later, except on its final attempt; that, or a failure
   * that will not go away (a bad key), sends the proof to manual review: with
   * a model configured nothing is approved without it.
   */
  async score(proof: ProofForScoring, options: ScoreOptions = {}): Promise<GuardianResult> {
    const offline = await this.scoreOffline(proof);
    if (!this.vision || offline.result.verdict === Verdict.REJECT || offline.usable.length === 0) return offline.result;
    let assessment: VisionAssessment;
    try {
      assessment = await this.vision.assess({
        title: proof.title ?? "",
        description: proof.description ?? "",
        proofRequirements: proof.proofRequirements,
        notes: proof.notes,
        photos: offline.usable,
      });
    } catch (err) {
      if (!(err instanceof VisionError) || (err.retryable && !options.finalAttempt)) throw err;
      return this.withoutVision(offline.result, err);
    }
    return this.combine(offline.result, assessment, this.vision.model);
  }

  /** The model's score can only lower the offline one; it cannot approve while it says a requirement is unmet. */
  private combine(offline: GuardianResult, assessment: VisionAssessment, model: string): GuardianResult {
    const reasons = [
      ...offline.reasons,
      ...assessment.requirements.map((r) => `vision: ${r.met ? "met" : "not met"}: ${clip(r.requirement)} (${clip(r.reason)})`),
      `vision score ${assessment.score}: ${clip(assessment.summary)}`,
    ];
    let modelScore = assessment.score;
    const unmet = assessment.requirements.filter((r) => !r.met).length;
    if (unmet > 0 && modelScore >= this.thresholds.approveAt) {
      modelScore = this.thresholds.approveAt - 1;
      reasons.push(`vision score capped at ${modelScore}: the model found ${unmet} requirement(s) not met`);
    }
    const score = Math.min(offline.score, modelScore);
    return { score, verdict: this.verdictFor(score), reasons, scorer: `${GuardianService.SCORER}+${model}`.slice(0, 64) };
  }

  /** Offline checks passed but the model could not be asked: a person decides. */
  private withoutVision(offline: GuardianResult, err: VisionError): GuardianResult {
    return {
      score: Math.min(offline.score, Math.max(0, this.thresholds.approveAt - 1)),
      verdict: Verdict.REVIEW,
      reasons: [...offline.reasons, `the vision check was unavailable (${err.message}); a person must review this proof`],
      scorer: GuardianService.SCORER,
    };
  }

  /** The offline checks, and the photos fit to show a model; the photos are decoded side by side by sharp, off the event loop. */
  private async scoreOffline(proof: ProofForScoring): Promise<{ result: GuardianResult; usable: VisionPhoto[] }> {
    const reasons: string[] = [];
    const usable: VisionPhoto[] = [];
    const expected = expectedPhotoCount(proof.proofRequirements);
    const seen = new Set<string>();
    const distinct = proof.photos.map((photo) => {
      const digest = createHash("sha256").update(photo).digest("hex");
      const duplicate = seen.has(digest);
      seen.add(digest);
      return duplicate ? undefined : photo;
    });
    // With a model to ask, large photos also get a smaller copy for it, made in the same decode.
    const fit = this.vision ? MODEL_FIT : undefined;
    const images = await Promise.all(distinct.map((photo) => (photo ? this.decoder.decode(photo, fit) : undefined)));
    let credit = 0;
    distinct.forEach((photo, index) => {
      const label = `photo ${index + 1}`;
      const image = images[index];
      if (!photo) {
        reasons.push(`${label} is a duplicate of an earlier photo`);
      } else if (!image) {
        reasons.push(`${label} is not a decodable JPEG, PNG or WebP image (of at most ${this.decoder.maxMegapixels} megapixels)`);
      } else {
        usable.push({ label, mediaType: image.model?.mediaType ?? image.format, data: image.model?.data ?? photo });
        const lowResolution = image.width < MIN_WIDTH || image.height < MIN_HEIGHT;
        if (lowResolution) reasons.push(`${label} is ${image.width}x${image.height}, below ${MIN_WIDTH}x${MIN_HEIGHT}`);
        credit += lowResolution ? LOW_RESOLUTION_CREDIT : 1;
      }
    });
    if (credit < expected) {
      reasons.push(`the requirements ask for ${expected} photo(s); ${usable.length} of ${seen.size} distinct photo(s) were usable, worth ${credit.toFixed(1)}`);
    }
    let score = (100 * Math.min(credit, expected)) / expected;
    if (notesRequired(proof.proofRequirements) && !proof.notes?.trim()) {
      reasons.push("the requirements ask for notes and none were given");
      score *= MISSING_NOTES_FACTOR;
    }
    const rounded = Math.round(score);
    if (reasons.length === 0) reasons.push(`all ${expected} required photo(s) present and decodable`);
    return { result: { score: rounded, verdict: this.verdictFor(rounded), reasons, scorer: GuardianService.SCORER }, usable };
  }
}
