import type { Em } from "../db/orm";
import type { JobWorker } from "../jobs/job.queue";
import type { Task } from "../tasks/task.entity";
import { Proof } from "../proofs/proof.entity";
import { ProofJobs } from "../proofs/proof.service";
import type { TaskService } from "../tasks/task.service";
import { TaskStatus } from "../tasks/task.enums";
import { GUARDIAN, transition } from "../tasks/task.transition";
import { Verification, Verdict } from "./verification.entity";
import type { GuardianService } from "./guardian.service";

export interface GuardianFollowUps {
  /** Called in the scoring transaction when a task was rejected and may be resubmitted. */
  onRejected?(em: Em, task: Task): void;
}

/** Scores submitted proof and moves the task on by the verdict, in one transaction. */
export function registerGuardianJobs(worker: JobWorker, guardian: GuardianService, tasks: TaskService, followUps: GuardianFollowUps = {}): void {
  worker.register(ProofJobs.score, async ({ em }, payload) => {
    const proof = await em.findOneOrFail(Proof, String(payload.proofId), { populate: ["task", "photos", "photos.data"] });
    const task = proof.task;
    // Already scored, or the task moved on: nothing to do.
    if (task.status !== TaskStatus.SUBMITTED || task.attempts !== proof.attempt) return;
    if (await em.count(Verification, { proof })) return;

    const result = guardian.score({
      proofRequirements: task.proofRequirements,
      photos: proof.photos.getItems().map((photo) => photo.data),
      notes: proof.notes,
    });
    em.persist(new Verification(task, proof, result.score, result.verdict, result.reasons, result.scorer));
    const reason = `Guardian score ${result.score}: ${result.reasons.join("; ")}`.slice(0, 1000);
    if (result.verdict === Verdict.APPROVE) tasks.verify(em, task, GUARDIAN, reason);
    else if (result.verdict === Verdict.REVIEW) transition(em, task, TaskStatus.MANUAL_REVIEW, GUARDIAN, reason);
    else {
      tasks.reject(em, task, GUARDIAN, reason);
      if ((task.status as TaskStatus) === TaskStatus.REJECTED) followUps.onRejected?.(em, task);
    }
  });
}
