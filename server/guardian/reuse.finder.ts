import type { Em } from "../db/orm";
import { Mode } from "../common/mode";
import { ProofPhoto, type Proof } from "../proofs/proof.entity";
import { TaskEvent } from "../tasks/task-event.entity";
import { TaskStatus } from "../tasks/task.enums";
import { hammingDistance, hashBands, NEAR_DUPLICATE_BITS } from "../photos/photo.hash";
import type { ProofEvidence } from "./guardian.service";
import type { ReuseMatch } from "./guardian.checks";

/**
 * The earlier proof photo of another task nearest to a photo, within
 * NEAR_DUPLICATE_BITS. Candidates come from the band indexes (a photo that
 * close shares a band exactly), so the lookup reads only photos sharing a
 * band, never all of them; each candidate is then compared in full. Earlier
 * attempts at the same task are not reuse: an operator may resubmit a photo
 * after a rejection.
 */
async function nearestEarlier(em: Em, proof: Proof, photo: ProofPhoto): Promise<ReuseMatch | undefined> {
  if (!photo.dhash) return undefined;
  const [dhashBand0, dhashBand1, dhashBand2, dhashBand3] = hashBands(photo.dhash);
  const candidates = await em.find(
    ProofPhoto,
    { $or: [{ dhashBand0 }, { dhashBand1 }, { dhashBand2 }, { dhashBand3 }], proof: { task: { $ne: proof.task.id } }, createdAt: { $lte: photo.createdAt } },
    { populate: ["proof"] },
  );
  let best: ReuseMatch | undefined;
  for (const candidate of candidates) {
    const bits = hammingDistance(photo.dhash, candidate.dhash!);
    if (bits <= NEAR_DUPLICATE_BITS && (!best || bits < best.bits)) best = { taskId: candidate.proof.task.id, bits };
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
