/**
 * Every kind of durable job, with the payload it carries: the one registry
 * `enqueue` and `JobWorker.register` take kinds from, so a misspelt kind or
 * a payload of the wrong shape is a compile error rather than a job that
 * fails at run time with "no handler registered".
 *
 * A kind is stored in the jobs table: renaming one strands the rows queued
 * under the old name, so a kind, once released, stays.
 */
export interface JobPayloads {
  /** A task's deadline passed (server/tasks). */
  "task.expire": { taskId: string };
  /** The accept window of one acceptance ran out (server/tasks): `acceptedAt` (ms) names the acceptance, so a later one is not ended by it. */
  "task.reservation_lapse": { taskId: string; acceptedAt: number };
  /** A verified task's review window ran out (server/tasks): its held release goes out unless it was disputed. */
  "task.release_hold": { taskId: string };
  /** The built-in mock operator's steps on a test task (server/testmode). */
  "testmode.accept": { taskId: string };
  "testmode.submit": { taskId: string };
  /** The Guardian scores a submitted proof (server/guardian). */
  "guardian.score": { proofId: string };
  /** Asks Sumsub again for an applicant's review result (server/kyc). */
  "kyc.recheck": { applicantId: string; attempt: number };
  /** Moves proof photos stored in the database to the configured store (server/photos). */
  "photos.move": Record<string, never>;
  /** Computes the perceptual hashes of photos stored before the current hash version (server/photos). */
  "photos.rehash": Record<string, never>;
  /** Deletes expired REST idempotency records (server/rest). */
  "rest.idempotency.purge": Record<string, never>;
  /** Deletes browser sessions that can no longer sign in (server/sessions). */
  "sessions.sweep": Record<string, never>;
}

export type JobKind = keyof JobPayloads;

/** The kinds by feature, for call sites: `JobKinds.testMode.accept`. */
export const JobKinds = {
  task: { expire: "task.expire", reservationLapse: "task.reservation_lapse", releaseHold: "task.release_hold" },
  testMode: { accept: "testmode.accept", submit: "testmode.submit" },
  guardian: { score: "guardian.score" },
  kyc: { recheck: "kyc.recheck" },
  photos: { move: "photos.move", rehash: "photos.rehash" },
  idempotency: { purge: "rest.idempotency.purge" },
  sessions: { sweep: "sessions.sweep" },
} as const satisfies Record<string, Record<string, JobKind>>;
