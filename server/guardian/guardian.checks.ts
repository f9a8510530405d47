import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { metresBetween } from "../common/geo";
import type { CaptureMetadata } from "../photos/photo.decoder";
import { CheckName, CheckOutcome } from "../api/enums";

export { CheckName, CheckOutcome };

registerEnumType(CheckOutcome, {
  name: "CheckOutcome",
  description: "PASS: the evidence holds. WARN: doubtful, the score drops. FAIL: the proof is rejected (a capture_code FAIL sends it to manual review instead). SKIPPED: could not be checked (and counts for nothing)",
});


/** One piece of the Guardian's evidence: what was checked, how it came out and why. */
@ObjectType({ description: "One check of the Guardian's verification: the score follows from these by the rules in docs/proof.md (AI Guardian: check by check)" })
export class GuardianCheck {
  @Field(() => String, { description: "photos, notes, location, time, reuse, recapture, vision or capture_code" })
  name!: string;

  @Field(() => CheckOutcome)
  outcome!: CheckOutcome;

  @Field(() => String)
  detail!: string;

  @Field(() => Int, { nullable: true, description: "The photo checked (its position, from 0); null for a check of the whole proof" })
  photo?: number | null;
}

export const check = (name: CheckName, outcome: CheckOutcome, detail: string, photo?: number): GuardianCheck => ({ name, outcome, detail, photo: photo ?? null });

/** How far from the task's point a photo may be taken, and how far a camera's clock may be off. */
export interface EvidenceRules {
  /** Within this many metres the location passes. */
  passWithinM: number;
  /** Beyond this many metres it fails; in between it warns. */
  failBeyondM: number;
  /** Clock skew allowed either side of the accepted..submitted window, in seconds. */
  clockSkewS: number;
}

export const DEFAULT_EVIDENCE_RULES: EvidenceRules = { passWithinM: 300, failBeyondM: 2_000, clockSkewS: 300 };

export function locationCheck(capture: CaptureMetadata, point: { lat: number; lng: number }, rules: EvidenceRules, photo: number): GuardianCheck {
  if (capture.latitude === undefined || capture.longitude === undefined) {
    return check(CheckName.LOCATION, CheckOutcome.WARN, "no GPS position in the photo's EXIF: where it was taken cannot be checked", photo);
  }
  const metres = Math.round(metresBetween(point, { lat: capture.latitude, lng: capture.longitude }));
  if (metres <= rules.passWithinM) return check(CheckName.LOCATION, CheckOutcome.PASS, `taken ${metres} m from the task's location (within ${rules.passWithinM} m)`, photo);
  if (metres > rules.failBeyondM) return check(CheckName.LOCATION, CheckOutcome.FAIL, `taken ${metres} m from the task's location (more than ${rules.failBeyondM} m)`, photo);
  return check(CheckName.LOCATION, CheckOutcome.WARN, `taken ${metres} m from the task's location (more than ${rules.passWithinM} m)`, photo);
}

/** The capture time must fall after the task was accepted and before the proof was submitted, give or take the clock skew allowed. */
export function timeCheck(capture: CaptureMetadata, window: { acceptedAt?: Date; submittedAt: Date }, rules: EvidenceRules, photo: number): GuardianCheck {
  const taken = capture.takenAt;
  if (!taken) return check(CheckName.TIME, CheckOutcome.WARN, "no capture time in the photo's EXIF: when it was taken cannot be checked", photo);
  const skew = rules.clockSkewS * 1_000;
  const at = taken.toISOString();
  if (window.acceptedAt && taken.getTime() < window.acceptedAt.getTime() - skew) {
    return check(CheckName.TIME, CheckOutcome.FAIL, `taken at ${at}, before the task was accepted at ${window.acceptedAt.toISOString()}`, photo);
  }
  if (taken.getTime() > window.submittedAt.getTime() + skew) {
    return check(CheckName.TIME, CheckOutcome.WARN, `taken at ${at}, after the proof was submitted at ${window.submittedAt.toISOString()}: the camera's clock is off`, photo);
  }
  if (!window.acceptedAt) return check(CheckName.TIME, CheckOutcome.WARN, `taken at ${at}; when the task was accepted is not on record`, photo);
  return check(CheckName.TIME, CheckOutcome.PASS, `taken at ${at}, after the task was accepted and before the proof was submitted`, photo);
}

/** An earlier proof photo (of another task) that this one nearly matches. */
export interface ReuseMatch {
  taskId: string;
  /** Bits the perceptual hashes differ in. */
  bits: number;
}

export function reuseCheck(dhash: string | undefined, match: ReuseMatch | undefined, photo: number): GuardianCheck {
  if (!dhash) return check(CheckName.REUSE, CheckOutcome.SKIPPED, "the photo has no perceptual hash (it was stored before hashing)", photo);
  if (match) {
    const how = match.bits === 0 ? "the same picture" : `a near-duplicate (${match.bits} of 64 hash bits differ)`;
    return check(CheckName.REUSE, CheckOutcome.FAIL, `${how} as a photo of an earlier proof, for task ${match.taskId}`, photo);
  }
  return check(CheckName.REUSE, CheckOutcome.PASS, "not like any earlier proof photo", photo);
}

/** Was the task's capture code seen by the vision model? (Without a model, or without a code, it is SKIPPED by the caller.) */
export function captureCodeCheck(code: string, seen: { visible: boolean; photo?: number | null; reason: string } | undefined): GuardianCheck {
  if (!seen) return check(CheckName.CAPTURE_CODE, CheckOutcome.SKIPPED, `the vision model gave no answer on capture code ${code}`);
  const photo = seen.visible && seen.photo ? seen.photo - 1 : undefined;
  if (seen.visible) return check(CheckName.CAPTURE_CODE, CheckOutcome.PASS, `capture code ${code} is visible and legible${photo === undefined ? "" : ` in photo ${photo + 1}`} (${seen.reason.slice(0, 200)})`, photo);
  return check(CheckName.CAPTURE_CODE, CheckOutcome.FAIL, `capture code ${code} is not visible or not legible in any photo (${seen.reason.slice(0, 200)}): nothing ties the photos to this task, so a person decides`);
}

/** Editing programs as they name themselves in EXIF Software; phones and cameras write a firmware version there. */
const EDITORS = /photoshop|lightroom|gimp|snapseed|picsart|facetune|pixelmator|affinity|canva|paint\.net|photoscape|fotor|luminar|darktable|capture one|vsco|airbrush|meitu|remini/i;

/** Common screen sizes (either way up): a screenshot is exactly one of them. */
const SCREENS = new Set(
  ["1920x1080", "2560x1440", "3840x2160", "1366x768", "1440x900", "1536x864", "1280x720", "1280x800", "1680x1050", "2880x1800", "2560x1600", "3024x1964", "3456x2234",
    "750x1334", "828x1792", "1080x1920", "1080x2340", "1080x2400", "1125x2436", "1170x2532", "1179x2556", "1242x2688", "1284x2778", "1290x2796", "1440x3200", "1440x3120", "2048x2732", "1668x2388", "1620x2160"].flatMap((size) => {
    const [w, h] = size.split("x");
    return [`${w}x${h}`, `${h}x${w}`];
  }),
);

/** Signs that a photo is a screenshot or photo of a screen, or was edited. Only ever a warning: each has innocent causes. */
export function recaptureCheck(capture: CaptureMetadata, size: { width: number; height: number }, photo: number): GuardianCheck {
  const signs: string[] = [];
  if (capture.software && EDITORS.test(capture.software)) signs.push(`EXIF Software names an editing program ("${capture.software}")`);
  if (!capture.make && !capture.model) {
    const ratio = Math.max(size.width, size.height) / Math.min(size.width, size.height);
    if (SCREENS.has(`${size.width}x${size.height}`) || ratio >= 1.9) signs.push(`no camera make or model, and screen-like dimensions (${size.width}x${size.height})`);
  }
  if (signs.length) return check(CheckName.RECAPTURE, CheckOutcome.WARN, signs.join("; "), photo);
  const camera = [capture.make, capture.model].filter(Boolean).join(" ");
  return check(CheckName.RECAPTURE, CheckOutcome.PASS, camera ? `taken with ${camera}, no editing program named` : "no sign of a screenshot or an editing program", photo);
}
