import { createHash } from "node:crypto";
import type { Em } from "../db/orm";
import { enqueue, type JobWorker } from "../jobs/job.queue";
import { Job, JobStatus } from "../jobs/job.entity";
import type { Logger } from "../common/logger";
import { ProofPhoto, type PhotoFacts } from "../proofs/proof.entity";
import { photoKey } from "./photo.store";
import type { PhotoService } from "./photo.service";

export const PhotoJobs = { move: "photos.move" } as const;

/**
 * Moves photos stored in the database row (from before the photo store)
 * into the configured store, a batch per job, in the background. Each
 * batch's bytes are written to the store and read back against the photo's
 * SHA-256 before the rows are switched over and their bytes cleared, in the
 * job's transaction, which also schedules the next batch. A crash anywhere
 * loses nothing: the job runs again when its lease runs out, and writing a
 * photo again writes the same bytes under the same names.
 */
export function registerPhotoJobs(worker: JobWorker, photos: PhotoService, batch: number): void {
  const prepare = async (em: Em): Promise<Array<{ id: string; facts: PhotoFacts }>> => {
    const legacy = await em.find(ProofPhoto, { stored: false }, { populate: ["data"], orderBy: { id: "asc" }, limit: batch });
    const moved: Array<{ id: string; facts: PhotoFacts }> = [];
    for (const photo of legacy) {
      if (!photo.data) throw new Error(`photo ${photo.id} has neither bytes in its row nor in the photo store`);
      const facts = await photos.save(em, photo.id, photo.data, photo.contentType);
      const copy = await photos.store.get(em, photoKey(photo.id, "original"));
      if (!copy || createHash("sha256").update(copy).digest("hex") !== photo.sha256) {
        throw new Error(`photo ${photo.id}: the ${photos.store.kind} store returned other bytes than were written`);
      }
      moved.push({ id: photo.id, facts });
    }
    return moved;
  };
  worker.register<Array<{ id: string; facts: PhotoFacts }>>(PhotoJobs.move, async ({ em, prepared: moved }) => {
    const rows = await em.find(ProofPhoto, { id: { $in: moved.map((m) => m.id) }, stored: false });
    for (const row of rows) row.storedWith(moved.find((m) => m.id === row.id)!.facts);
    await em.flush();
    if (moved.length > 0 && (await em.count(ProofPhoto, { stored: false })) > 0) enqueue(em, PhotoJobs.move, {});
  }, prepare);
}

/** At start: when photos still wait in database rows and no move is under way, schedules one. */
export async function scheduleLegacyPhotoMove(em: Em, log: Logger): Promise<void> {
  const waiting = await em.count(ProofPhoto, { stored: false });
  if (waiting === 0 || (await em.count(Job, { kind: PhotoJobs.move, status: JobStatus.PENDING })) > 0) return;
  enqueue(em, PhotoJobs.move, {});
  await em.flush();
  log.info({ photos: waiting }, "moving photos from database rows into the photo store in the background");
}
