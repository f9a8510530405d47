import { randomInt } from "node:crypto";
import type { Em } from "../db/orm";
import { Task } from "./task.entity";
import { TaskStatus } from "./task.enums";

/**
 * The capture code: a short code issued to the operator when a task is
 * accepted ("HX-4821"), to be shown (on paper or a screen) in one photo of
 * the proof. It binds a photo to this task and this acceptance, which EXIF
 * alone cannot: EXIF is easy to rewrite, a code drawn up after accepting is
 * not in last week's photo. Letters that read alike (I/1, O/0, S/5, B/8, Z/2)
 * are left out, so a code is legible from a handwritten note.
 */
const LETTERS = "ACDEFGHJKLMNPQRTUVWXY";
export const CAPTURE_CODE_PATTERN = /^[A-Z]{2}-\d{4}$/;

/** Statuses in which a task's code still matters: proof may still come or be judged. Codes of finished tasks may be issued again. */
const LIVE_CODE_STATUSES = [TaskStatus.ACCEPTED, TaskStatus.SUBMITTED, TaskStatus.MANUAL_REVIEW, TaskStatus.REJECTED];
/** Out of 4.4 million codes, a few tries find a free one unless millions of tasks are open at once. */
const MAX_TRIES = 8;

export function randomCaptureCode(): string {
  const letter = () => LETTERS[randomInt(LETTERS.length)];
  return `${letter()}${letter()}-${String(randomInt(10_000)).padStart(4, "0")}`;
}

/**
 * A code no other task whose code still matters holds (looked up by the
 * index on tasks.capture_code). Two accepts racing to the same fresh code
 * would need the same 1-in-4.4-million draw in the same instant; a clash
 * would only make the codes ambiguous to a person, never pay anyone.
 */
export async function issueCaptureCode(em: Em, task: Task): Promise<string> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const code = randomCaptureCode();
    const taken = await em.count(Task, { captureCode: code, status: { $in: LIVE_CODE_STATUSES }, id: { $ne: task.id } });
    if (taken === 0) return code;
  }
  throw new Error(`no free capture code after ${MAX_TRIES} tries`);
}

/** The requirement the operator reads (never the agent's own list, which the Guardian counts photos from). */
export function captureCodeRequirement(code: string): string {
  return `Show the capture code ${code} (written on paper or on a screen) legibly in one of the photos`;
}
