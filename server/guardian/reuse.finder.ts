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
 * Per photo of a proof, the earlier proof photo of another task nearest to
 * it, within NEAR_DUPLICATE_BITS. Each photo has a hash per window
 * (photo.hash.ts: the whole frame and 90% crops of it), each split in four
 * 16-bit bands, each band indexed. A copy, even cropped by about 10%, has
 * its whole-frame hash near one window's hash of the original (and the
 * other way round when the earlier photo was the cropped one), and two
 * hashes that near share a band exactly; so candidates are the hash rows
 * whose band equals a band of a photo's whole-frame hash (any window of
 * theirs), or a band of one of its windows (their whole frame): an indexed
 * equality lookup that reads only rows sharing a band, never all photos.
 * Each candidate is then compared in full, with each photo taken after it.
 * The proof's photos are looked up together: their own hashes in one
 * statement, the candidates of all of them in another (a candidate found by
 * one photo's bands and within the distance of another shares a band with
 * that one too, so it is the same answer as a lookup per photo). Earlier
 * attempts at the same task are not reuse: an operator may resubmit a photo
 * after a rejection.
 */
export async function findReuse(em: Em, proof: Proof, photos: ProofPhoto[]): Promise<Array<ReuseMatch | undefined>> {
  const hashed = photos.filter((photo) => photo.dhash);
  if (hashed.length === 0) return photos.map(() => undefined);
  const own = new Map<string, string[]>();
  for (const row of await em.find(ProofPhotoHash, { photo: { $in: hashed.map((photo) => photo.id) } }, { orderBy: { photo: "asc", window: "asc" } })) {
    own.set(row.photo.id, [...(own.get(row.photo.id) ?? []), row.hash]);
  }
  const windowsOf = new Map(hashed.map((photo) => [photo.id, own.get(photo.id) ?? [photo.dhash!]]));
  const all = [...windowsOf.values()];
  const bands = (hashes: string[], k: number) => [...new Set(hashes.map((hash) => hashBands(hash)[k]))];
  const wholes = all.map((windows) => windows[0]);
  const latest = hashed.reduce((at, photo) => (photo.createdAt > at ? photo.createdAt : at), hashed[0].createdAt);
  const candidates = await em.find(
    ProofPhotoHash,
    {
      $or: [
        { band0: { $in: bands(wholes, 0) } }, { band1: { $in: bands(wholes, 1) } }, { band2: { $in: bands(wholes, 2) } }, { band3: { $in: bands(wholes, 3) } },
        { window: 0, $or: [0, 1, 2, 3].map((k) => ({ [`band${k}`]: { $in: bands(all.flat(), k) } })) },
      ],
      photo: { proof: { task: { $ne: proof.task.id } }, createdAt: { $lte: latest } },
    },
    { populate: ["photo.proof"] },
  );
  return photos.map((photo) => {
    const windows = windowsOf.get(photo.id);
    if (!windows) return undefined;
    let best: ReuseMatch | undefined;
    for (const candidate of candidates) {
      if (candidate.photo.createdAt > photo.createdAt) continue;
      // Their window against our whole frame, or their whole frame against each of our windows.
      const bits = candidate.window === 0 ? Math.min(...windows.map((hash) => hammingDistance(hash, candidate.hash))) : hammingDistance(windows[0], candidate.hash);
      if (bits <= NEAR_DUPLICATE_BITS && (!best || bits < best.bits)) best = { taskId: candidate.photo.proof.task.id, bits };
    }
    return best;
  });
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
