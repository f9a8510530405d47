import { bytesOf, sha256Of, type Decoded, type ModelFit, type PhotoInput, type PhotoWork } from "../photos/photo.decoder";
import { Verdict } from "./verification.entity";
import { captureCodeCheck, CheckName, CheckOutcome, check, DEFAULT_EVIDENCE_RULES, locationCheck, recaptureCheck, reuseCheck, timeCheck, type EvidenceRules, type GuardianCheck, type ReuseMatch } from "./guardian.checks";
import { VisionError, type VisionAssessment, type VisionModel, type VisionPhoto } from "./vision.client";

export interface GuardianThresholds {
  approveAt: number;
  rejectBelow: number;
  /** Location radii and clock skew of the evidence checks (defaults: pass within 300 m, fail beyond 2 km, 5 minutes). */
  evidence?: EvidenceRules;
}

/** What the evidence checks weigh a proof against: the task's place and times, and earlier proofs. */
export interface ProofEvidence {
  point: { lat: number; lng: number };
  /** When the operator accepted the task (the latest acceptance before this proof). */
  acceptedAt?: Date;
  submittedAt: Date;
  /** Live tasks are never auto-approved without a vision model. */
  live: boolean;
  /** Per photo, by position: its stored perceptual hash, and an earlier proof photo of another task it nearly matches. */
  photos: Array<{ dhash?: string; reuse?: ReuseMatch }>;
}

export interface ProofForScoring {
  proofRequirements: string[];
  /** The photos' bytes, or local files of them (stored photos in the directory store), which the decoder reads. */
  photos: PhotoInput[];
  /** The photos' SHA-256 (hex) by position, when known (stored photos have theirs): duplicates are spotted without hashing the bytes again. */
  sha256?: string[];
  notes?: string;
  /** The task's terms, shown to the vision model. */
  title?: string;
  description?: string;
  /** Without it (scoring photos alone) the location, time and reuse checks are SKIPPED. */
  evidence?: ProofEvidence;
  /** The code the operator was given on accepting (null for tasks accepted before codes were issued). */
  captureCode?: string | null;
}

export interface ScoreOptions {
  /** The job's last try: a vision check that still fails sends the proof to manual review instead of throwing. */
  finalAttempt?: boolean;
}

export interface GuardianResult {
  score: number;
  verdict: Verdict;
  reasons: string[];
  checks: GuardianCheck[];
  scorer: string;
}

/** Points each kind of evidence check with a WARN (on any photo) takes off the score. */
export const WARN_PENALTY = 5;

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

/** The offline part of a verdict: the completeness score, every check, and the photos fit to show a model. */
interface OfflineScore {
  completeness: number;
  photoReasons: string[];
  checks: GuardianCheck[];
  /** As the model is shown them; a photo sent as it is may still be a file, read only when the model is asked. */
  usable: Array<Omit<VisionPhoto, "data"> & { data: PhotoInput }>;
}

const label = (c: GuardianCheck) => `${c.name}${c.photo == null ? "" : ` (photo ${c.photo + 1})`}`;

/**
 * The Guardian weighs a proof check by check (guardian.checks.ts) and
 * computes the score from the checks by the rules in docs/proof.md (AI Guardian: check by check):
 * completeness of the photos (and notes when asked) gives the base score;
 * each kind of evidence check that WARNs (on any photo) takes WARN_PENALTY
 * points off; any FAIL
 * caps the score below the reject threshold; a vision model's score, when
 * configured, can only lower it; a capture code the model does not see
 * caps the score in the review band; and without a vision model a live proof is
 * never approved automatically: it is capped in the review band, so a
 * person decides.
 */
export class GuardianService {
  static readonly SCORER = "offline-v2";
  private readonly rules: EvidenceRules;

  constructor(
    private readonly thresholds: GuardianThresholds,
    private readonly decoder: PhotoWork,
    private readonly vision?: VisionModel,
  ) {
    this.rules = thresholds.evidence ?? DEFAULT_EVIDENCE_RULES;
  }

  /** Does a live proof need a person's review whatever its checks say (no vision model)? */
  get reviewsLiveProof(): boolean {
    return !this.vision;
  }

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
    const before = this.decide(offline, proof.evidence);
    const code = proof.captureCode ?? undefined;
    /** The capture_code check when the model is not asked (the reason is the vision check's). */
    const codeSkipped = (why: string) => check(CheckName.CAPTURE_CODE, CheckOutcome.SKIPPED, code ? `capture code ${code} not checked: ${why}` : "the task has no capture code (it was accepted before codes were issued)");
    if (!this.vision) {
      const why = proof.evidence?.live ? "no vision model is configured: a person reviews every live proof" : "no vision model is configured";
      return this.decide(offline, proof.evidence, [check(CheckName.VISION, CheckOutcome.SKIPPED, why), codeSkipped("no vision model is configured to read it")]);
    }
    if (before.verdict === Verdict.REJECT || offline.usable.length === 0) {
      const why = "the other checks already reject the proof";
      return this.decide(offline, proof.evidence, [check(CheckName.VISION, CheckOutcome.SKIPPED, why), codeSkipped(why)]);
    }
    let assessment: VisionAssessment;
    try {
      assessment = await this.vision.assess({
        title: proof.title ?? "",
        description: proof.description ?? "",
        proofRequirements: proof.proofRequirements,
        notes: proof.notes,
        photos: await Promise.all(offline.usable.map(async (photo) => ({ ...photo, data: await bytesOf(photo.data) }))),
        captureCode: code,
      });
    } catch (err) {
      if (!(err instanceof VisionError) || (err.retryable && !options.finalAttempt)) throw err;
      const unavailable = check(CheckName.VISION, CheckOutcome.WARN, `the vision check was unavailable (${err.message}); a person must review this proof`);
      return { ...this.decide(offline, proof.evidence, [unavailable, codeSkipped("the vision check was unavailable")], this.thresholds.approveAt - 1), scorer: GuardianService.SCORER };
    }
    const codeCheck = code ? captureCodeCheck(code, assessment.captureCode) : codeSkipped("");
    return this.withVision(offline, proof.evidence, assessment, this.vision.model, codeCheck);
  }

  /** The model's score can only lower the offline one; it cannot approve while it says a requirement is unmet. */
  private withVision(offline: OfflineScore, evidence: ProofEvidence | undefined, assessment: VisionAssessment, model: string, codeCheck: GuardianCheck): GuardianResult {
    let modelScore = assessment.score;
    const unmet = assessment.requirements.filter((r) => !r.met).length;
    const notes = assessment.requirements.map((r) => `vision: ${r.met ? "met" : "not met"}: ${clip(r.requirement)} (${clip(r.reason)})`);
    if (unmet > 0 && modelScore >= this.thresholds.approveAt) {
      modelScore = this.thresholds.approveAt - 1;
      notes.push(`vision score capped at ${modelScore}: the model found ${unmet} requirement(s) not met`);
    }
    const outcome = { [Verdict.APPROVE]: CheckOutcome.PASS, [Verdict.REVIEW]: CheckOutcome.WARN, [Verdict.REJECT]: CheckOutcome.FAIL }[this.verdictFor(modelScore)];
    const summary = `vision score ${assessment.score}: ${clip(assessment.summary)}`;
    const vision = check(CheckName.VISION, outcome, `${summary}${unmet ? `; ${unmet} requirement(s) not met` : ""}`);
    const result = this.decide(offline, evidence, [vision, codeCheck], modelScore);
    // The model's verdict per requirement follows; its summary is in the reasons once (a PASS check adds none).
    const reasons = outcome === CheckOutcome.PASS ? [...result.reasons, summary] : result.reasons;
    return { ...result, reasons: [...reasons, ...notes], scorer: `${GuardianService.SCORER}+${model}`.slice(0, 64) };
  }

  /** The score by the documented rules, from the checks (and the model's score, which can only lower it). */
  private decide(offline: OfflineScore, evidence: ProofEvidence | undefined, extra: GuardianCheck[] = [], ceiling = 100): GuardianResult {
    const checks = [...offline.checks, ...extra];
    const reasons = [...offline.photoReasons];
    const ownRules = new Set<string>([CheckName.PHOTOS, CheckName.NOTES, CheckName.VISION, CheckName.CAPTURE_CODE]);
    const evidenceChecks = checks.filter((c) => !ownRules.has(c.name));
    const warnings = evidenceChecks.filter((c) => c.outcome === CheckOutcome.WARN);
    const failures = evidenceChecks.filter((c) => c.outcome === CheckOutcome.FAIL);
    // A warning counts once per kind of evidence, however many photos share it (one camera without GPS is one doubt).
    const warned = [...new Set(warnings.map((c) => c.name))];
    let score = offline.completeness - WARN_PENALTY * warned.length;
    for (const c of checks) {
      // The photos check's reasons lead the list; the vision check's detail speaks for itself.
      if (c.name === CheckName.PHOTOS || c.outcome === CheckOutcome.PASS || c.outcome === CheckOutcome.SKIPPED) continue;
      reasons.push(c.name === CheckName.VISION ? c.detail : `${label(c)}: ${c.detail}`);
    }
    if (warned.length) reasons.push(`warnings on ${warned.join(", ")}: ${WARN_PENALTY} points off for each`);
    if (failures.length) {
      score = Math.min(score, this.thresholds.rejectBelow - 1);
      reasons.push(`failed: ${failures.map(label).join(", ")}`);
    }
    score = Math.min(score, ceiling);
    // The model's reading of a hand-held code is the least certain check: a code it cannot find sends the proof to a person, it does not reject it.
    if (checks.some((c) => c.name === CheckName.CAPTURE_CODE && c.outcome === CheckOutcome.FAIL) && score >= this.thresholds.approveAt) {
      score = this.thresholds.approveAt - 1;
      reasons.push(`capped at ${score}: the capture code was not seen, so nothing ties the photos to this task; a person decides`);
    }
    if (evidence?.live && !this.vision && score >= this.thresholds.approveAt) {
      score = this.thresholds.approveAt - 1;
      reasons.push(`capped at ${score}: without a vision model a live proof is never approved automatically; a person decides`);
    }
    score = Math.max(0, Math.round(score));
    if (reasons.length === 0) reasons.push(offline.checks.find((c) => c.name === CheckName.PHOTOS)!.detail);
    return { score, verdict: this.verdictFor(score), reasons, checks, scorer: GuardianService.SCORER };
  }

  /** The offline checks, and the photos fit to show a model; the photos are decoded side by side by sharp, off the event loop. */
  private async scoreOffline(proof: ProofForScoring): Promise<OfflineScore> {
    const reasons: string[] = [];
    const usable: OfflineScore["usable"] = [];
    const perPhoto: GuardianCheck[] = [];
    const expected = expectedPhotoCount(proof.proofRequirements);
    const evidence = proof.evidence;
    const seen = new Set<string>();
    const digests = await Promise.all(proof.photos.map(async (photo, i) => proof.sha256?.[i] ?? sha256Of(photo)));
    const distinct = proof.photos.map((photo, i) => {
      const digest = digests[i];
      const duplicate = seen.has(digest);
      seen.add(digest);
      return duplicate ? undefined : photo;
    });
    // With a model to ask, large photos also get a smaller copy for it, made in the same decode.
    const fit = this.vision ? MODEL_FIT : undefined;
    const images = await Promise.all(distinct.map((photo) => (photo ? this.decoder.decode(photo, fit) : Promise.resolve(undefined))));
    let credit = 0;
    distinct.forEach((photo, index) => {
      const name = `photo ${index + 1}`;
      const image = images[index];
      if (!photo) {
        reasons.push(`${name} is a duplicate of an earlier photo`);
      } else if (!image) {
        reasons.push(`${name} is not a decodable JPEG, PNG or WebP image (of at most ${this.decoder.maxMegapixels} megapixels)`);
      } else {
        usable.push({ label: name, mediaType: image.model?.mediaType ?? image.format, data: image.model?.data ?? photo });
        const lowResolution = image.width < MIN_WIDTH || image.height < MIN_HEIGHT;
        if (lowResolution) reasons.push(`${name} is ${image.width}x${image.height}, below ${MIN_WIDTH}x${MIN_HEIGHT}`);
        credit += lowResolution ? LOW_RESOLUTION_CREDIT : 1;
        perPhoto.push(...this.evidenceChecks(image, evidence, index));
      }
    });
    if (credit < expected) {
      reasons.push(`the requirements ask for ${expected} photo(s); ${usable.length} of ${seen.size} distinct photo(s) were usable, worth ${credit.toFixed(1)}`);
    }
    const photosScore = (100 * Math.min(credit, expected)) / expected;
    const photosOutcome = { [Verdict.APPROVE]: CheckOutcome.PASS, [Verdict.REVIEW]: CheckOutcome.WARN, [Verdict.REJECT]: CheckOutcome.FAIL }[this.verdictFor(Math.round(photosScore))];
    const checks = [check(CheckName.PHOTOS, photosOutcome, reasons.length ? reasons.join("; ") : `all ${expected} required photo(s) present and decodable`)];
    let completeness = photosScore;
    if (notesRequired(proof.proofRequirements)) {
      const given = Boolean(proof.notes?.trim());
      checks.push(check(CheckName.NOTES, given ? CheckOutcome.PASS : CheckOutcome.WARN, given ? "notes given, as the requirements ask" : "the requirements ask for notes and none were given"));
      if (!given) completeness *= MISSING_NOTES_FACTOR;
    }
    return { completeness, photoReasons: reasons, checks: [...checks, ...perPhoto], usable };
  }

  /** The location, time, reuse and recapture checks of one decoded photo. */
  private evidenceChecks(image: Decoded, evidence: ProofEvidence | undefined, index: number): GuardianCheck[] {
    const recapture = recaptureCheck(image.capture, image, index);
    if (!evidence) {
      const why = "scored without the task's context";
      return [CheckName.LOCATION, CheckName.TIME, CheckName.REUSE].map((name) => check(name, CheckOutcome.SKIPPED, why, index)).concat(recapture);
    }
    const stored = evidence.photos[index] ?? {};
    return [
      locationCheck(image.capture, evidence.point, this.rules, index),
      timeCheck(image.capture, evidence, this.rules, index),
      reuseCheck(stored.dhash, stored.reuse, index),
      recapture,
    ];
  }
}
