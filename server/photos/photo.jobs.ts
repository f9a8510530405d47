import type { Em } from "../db/orm";
import { LockMode } from "@mikro-orm/core";
import { dialectOf } from "../db/dialect";
import { enqueue, type JobWorker } from "../jobs/job.queue";
import { Job, JobStatus } from "../jobs/job.entity";
import type { Logger } from "../common/logger";
import { ProofPhoto, type PhotoFacts } from "../proofs/proof.entity";
import { ProofPhotoHash } from "./photo-hash.entity";
import { HASH_VERSION } from "./photo.hash";
import { sha256Of } from "./photo.decoder";
import { photoKey } from "./photo.store";
import type { PhotoService } from "./photo.service";
import { JobKinds } from "../jobs/job.kinds";

export const PhotoJobs = JobKinds.photos;

/** Stored photos whose hashes come from an earlier method than the current one. */
const OUTDATED = { stored: true, hashVersion: { $lt: HASH_VERSION } };

/**
 * Moves photos stored in the database row (from before the photo store)
 * into the configured store, a batch per job, in the background. Each
 * batch's bytes are written to the store and read back against the photo's
 * SHA-256 before the rows are switched over and their bytes cleared, in the
 * job's transaction, which also schedules the next batch. A crash anywhere
 * loses nothing: the job runs again when its lease runs out, and writing a
 * photo again writes the same bytes under the same names.
 *
 * Hashes photos stored before the current hash method (HASH_VERSION) again
 * the same way, a batch per job: each photo's original is read from the
 * store and hashed as an upload is (PhotoService.hashes), outside the
 * transaction; then, in the job's transaction, its old hash rows are
 * replaced by the new ones and its hash_version set, and the next batch is
 * scheduled. A photo already at the current version is skipped there, so a
 * batch run again after a crash changes nothing it had done.
 */
export function registerPhotoJobs(worker: JobWorker, photos: PhotoService, batch: number): void {
  const prepare = async (em: Em): Promise<Array<{ id: string; facts: PhotoFacts }>> => {
    const legacy = await em.find(ProofPhoto, { stored: false }, { populate: ["data"], orderBy: { id: "asc" }, limit: batch });
    const moved: Array<{ id: string; facts: PhotoFacts }> = [];
    for (const photo of legacy) {
      if (!photo.data) throw new Error(`photo ${photo.id} has neither bytes in its row nor in the photo store`);
      const facts = await photos.save(em, photo.id, photo.data, photo.contentType);
      const copy = await photos.store.get(em, photoKey(photo.id, "original"));
      // Hashed on the thread pool: a batch of photos of megabytes each would otherwise hold the event loop.
      if (!copy || (await sha256Of(copy)) !== photo.sha256) {
        throw new Error(`photo ${photo.id}: the ${photos.store.kind} store returned other bytes than were written`);
      }
      moved.push({ id: photo.id, facts });
    }
    return moved;
  };
  worker.register(PhotoJobs.move, async ({ em, prepared: moved }) => {
    // Locked (PostgreSQL): a second run of the batch, after a lease ran out, waits here and then finds them moved.
    const rows = await em.find(ProofPhoto, { id: { $in: moved.map((m) => m.id) }, stored: false }, locked(em));
    const factsOf = (row: ProofPhoto) => moved.find((m) => m.id === row.id)!.facts;
    // A photo hashed before the store existed has its old whole-frame row (the window hashes migration): the new windows replace it.
    await replaceHashes(em, rows.filter((row) => factsOf(row).hashes?.length));
    for (const row of rows) row.storedWith(factsOf(row));
    await em.flush();
    if (moved.length > 0 && (await em.count(ProofPhoto, { stored: false })) > 0) enqueue(em, PhotoJobs.move, {});
  }, prepare);

  const hashAgain = async (em: Em): Promise<Array<{ id: string; hashes?: string[] }>> => {
    const outdated = await em.find(ProofPhoto, OUTDATED, { orderBy: { id: "asc" }, limit: batch });
    const hashed: Array<{ id: string; hashes?: string[] }> = [];
    for (const photo of outdated) hashed.push({ id: photo.id, hashes: await photos.hashes(em, photo) });
    return hashed;
  };
  worker.register(PhotoJobs.rehash, async ({ em, prepared: hashed }) => {
    const rows = await em.find(ProofPhoto, { id: { $in: hashed.map((h) => h.id) }, ...OUTDATED }, locked(em));
    const hashesOf = (row: ProofPhoto) => hashed.find((h) => h.id === row.id)!.hashes;
    await replaceHashes(em, rows.filter((row) => hashesOf(row)?.length));
    for (const row of rows) row.hashedWith(hashesOf(row));
    await em.flush();
    if (hashed.length > 0 && (await em.count(ProofPhoto, OUTDATED)) > 0) enqueue(em, PhotoJobs.rehash, {});
  }, hashAgain);
}

/** The batch's rows, locked on PostgreSQL (SQLite serialises writers itself). */
function locked(em: Em): { lockMode?: LockMode.PESSIMISTIC_WRITE } {
  return dialectOf(em.getPlatform()) === "postgresql" ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
}

/** Deletes the photos' hash rows, in the caller's transaction, before their new ones are added. */
async function replaceHashes(em: Em, rows: ProofPhoto[]): Promise<void> {
  if (rows.length > 0) await em.nativeDelete(ProofPhotoHash, { photo: { $in: rows.map((row) => row.id) } });
}

/** At start: when photos still wait in database rows and no move is under way, schedules one. */
export async function scheduleLegacyPhotoMove(em: Em, log: Logger): Promise<void> {
  const waiting = await em.count(ProofPhoto, { stored: false });
  if (waiting === 0 || (await em.count(Job, { kind: PhotoJobs.move, status: JobStatus.PENDING })) > 0) return;
  enqueue(em, PhotoJobs.move, {});
  await em.flush();
  log.info({ photos: waiting }, "moving photos from database rows into the photo store in the background");
}

/** At start: when stored photos have hashes of an earlier method and no re-hash is under way, schedules one. */
export async function scheduleRehash(em: Em, log: Logger): Promise<void> {
  const waiting = await em.count(ProofPhoto, OUTDATED);
  if (waiting === 0 || (await em.count(Job, { kind: PhotoJobs.rehash, status: JobStatus.PENDING })) > 0) return;
  enqueue(em, PhotoJobs.rehash, {});
  await em.flush();
  log.info({ photos: waiting, version: HASH_VERSION }, "hashing photos stored before the current hash method again in the background");
}
