import type { Em } from "../db/orm";
import { Mode } from "../common/mode";
import type { ProofPhoto, Proof } from "../proofs/proof.entity";
import { ProofPhotoHash } from "../photos/photo-hash.entity";
import { TaskEvent } from "../tasks/task-event.entity";
import { TaskStatus } from "../tasks/task.enums";
import { hammingDistance, hashBands, NEAR_DUPLICATE_BITS } from "../photos/photo.hash";
import type { ProofEvidence } from "./guardian.service";
import type { ReuseMatch } from "./guardian.checks";

/**
 * The earlier proof photo of another task nearest to a photo, within
 * NEAR_DUPLICATE_BITS. Each photo has a hash per window (photo.hash.ts:
 * the whole frame and 90% crops of it), each split in four 16-bit bands,
 * each band indexed. A copy, even cropped by about 10%, has its whole-frame
 * hash near one window's hash of the original (and the other way round when
 * the earlier photo was the cropped one), and two hashes that near share a
 * band exactly; so candidates are the hash rows whose band equals a band of
 * this photo's whole-frame hash (any window of theirs), or a band of one of
 * this photo's windows (their whole frame): an indexed equality lookup that
 * reads only rows sharing a band, never all photos. Each candidate is then
 * compared in full. Earlier attempts at the same task are not reuse: an
 * operator may resubmit a photo after a rejection.
 */
async function nearestEarlier(em: Em, proof: Proof, photo: ProofPhoto): Promise<ReuseMatch | undefined> {
  if (!photo.dhash) return undefined;
  const own = (await em.find(ProofPhotoHash, { photo: photo.id }, { orderBy: { window: "asc" } })).map((row) => row.hash);
  const windows = own.length ? own : [photo.dhash];
  const whole = hashBands(windows[0]);
  const bands = (k: number) => [...new Set(windows.map((hash) => hashBands(hash)[k]))];
  const candidates = await em.find(
    ProofPhotoHash,
    {
      $or: [
        { band0: whole[0] }, { band1: whole[1] }, { band2: whole[2] }, { band3: whole[3] },
        { window: 0, $or: [{ band0: { $in: bands(0) } }, { band1: { $in: bands(1) } }, { band2: { $in: bands(2) } }, { band3: { $in: bands(3) } }] },
      ],
      photo: { proof: { task: { $ne: proof.task.id } }, createdAt: { $lte: photo.createdAt } },
    },
    { populate: ["photo.proof"] },
  );
  let best: ReuseMatch | undefined;
  for (const candidate of candidates) {
    // Their window against our whole frame, or their whole frame against each of our windows.
    const bits = candidate.window === 0 ? Math.min(...windows.map((hash) => hammingDistance(hash, candidate.hash))) : hammingDistance(windows[0], candidate.hash);
    if (bits <= NEAR_DUPLICATE_BITS && (!best || bits < best.bits)) best = { taskId: candidate.photo.proof.task.id, bits };
  }
  return best;
}

/** Per photo of a proof, the earlier proof photo of another task it nearly matches, if any. */
export async function findReuse(em: Em, proof: Proof, photos: ProofPhoto[]): Promise<Array<ReuseMatch | undefined>> {
  const matches: Array<ReuseMatch | undefined> = [];
  // One query at a time: the EntityManager may hold a single connection (a transaction).
  for (const photo of photos) matches.push(await nearestEarlier(em, proof, photo));
  return matches;
}

/** What the evidence checks weigh a proof against: the task's point, its latest acceptance before the proof, the submission time, and reuse. */
export async function proofEvidence(em: Em, proof: Proof, photos: ProofPhoto[]): Promise<ProofEvidence> {
  const task = proof.task;
  const accepted = await em.findOne(TaskEvent, { task: task.id, toStatus: TaskStatus.ACCEPTED, createdAt: { $lte: proof.createdAt } }, { orderBy: { id: "desc" } });
  const reuse = await findReuse(em, proof, photos);
  return {
    point: { lat: task.lat, lng: task.lng },
    acceptedAt: accepted?.createdAt,
    submittedAt: proof.createdAt,
    live: task.mode === Mode.LIVE,
    photos: photos.map((photo, i) => ({ dhash: photo.dhash ?? undefined, reuse: reuse[i] })),
  };
}
