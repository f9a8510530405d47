import type { Em } from "../db/orm";
import type { JobWorker } from "../jobs/job.queue";
import type { Job } from "../jobs/job.entity";
import { Proof } from "../proofs/proof.entity";
import { ProofJobs } from "../proofs/proof.service";
import type { TaskService } from "../tasks/task.service";
import { TaskStatus } from "../tasks/task.enums";
import { GUARDIAN, transition } from "../tasks/task.transition";
import { Verification, Verdict } from "./verification.entity";
import type { GuardianResult, GuardianService } from "./guardian.service";
import type { PhotoService } from "../photos/photo.service";
import { proofEvidence } from "./reuse.finder";

/**
 * Is this proof still waiting for its score: its task still SUBMITTED at
 * this proof's attempt? That also says the proof has no Verification yet:
 * one is written only here, in the transaction that moves the task out of
 * SUBMITTED, and the task enters SUBMITTED again only with a new proof at
 * the next attempt (attempts only grow). The task's version makes two
 * scorings of one proof racing each other a conflict for the second.
 */
function awaitingScore(proof: Proof): boolean {
  const task = proof.task;
  return task.status === TaskStatus.SUBMITTED && task.attempts === proof.attempt;
}

/**
 * Scores submitted proof and moves the task on by the verdict. The scoring
 * (decoding every photo with sharp, looking up earlier near-duplicates by
 * their hash bands, then asking the vision model)
 * runs before the job's transaction; the verdict is applied in it, after
 * checking again that the proof still waits for it. A vision model that is
 * overloaded fails the job, which retries with backoff; on its final
 * attempt the Guardian gives up on the model and asks for a manual review.
 */
export function registerGuardianJobs(worker: JobWorker, guardian: GuardianService, tasks: TaskService, photos: PhotoService): void {
  const prepare = async (em: Em, payload: Record<string, unknown>, job: Job): Promise<GuardianResult | undefined> => {
    const proof = await em.findOneOrFail(Proof, String(payload.proofId), { populate: ["task", "photos"] });
    if (!awaitingScore(proof)) return undefined;
    const task = proof.task;
    const rows = proof.photos.getItems();
    // Files the decoder reads itself, when the store keeps local files: the bytes then never pass through this process.
    const originals = await Promise.all(rows.map((photo) => photos.original(em, photo)));
    const evidence = await proofEvidence(em, proof, rows);
    return guardian.score(
      { title: task.title, description: task.description, proofRequirements: task.proofRequirements, photos: originals, sha256: rows.map((photo) => photo.sha256), notes: proof.notes, evidence, captureCode: task.captureCode },
      { finalAttempt: job.attempts >= job.maxAttempts },
    );
  };
  worker.register(ProofJobs.score, async ({ em, prepared: result }, payload) => {
    const proof = await em.findOneOrFail(Proof, String(payload.proofId), { populate: ["task"] });
    const task = proof.task;
    // Already scored, or the task moved on: nothing to do.
    if (!result || !awaitingScore(proof)) return;
    em.persist(new Verification(task, proof, result.score, result.verdict, result.reasons, result.scorer, result.checks));
    const reason = `Guardian score ${result.score}: ${result.reasons.join("; ")}`.slice(0, 1000);
    if (result.verdict === Verdict.APPROVE) tasks.verify(em, task, GUARDIAN, reason);
    else if (result.verdict === Verdict.REVIEW) transition(em, task, TaskStatus.MANUAL_REVIEW, GUARDIAN, reason);
    else tasks.reject(em, task, GUARDIAN, reason);
  }, prepare);
}
