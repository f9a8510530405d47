import type { JobWorker } from "../jobs/job.queue";
import type { SumsubEvent } from "./sumsub.webhook";
import { KycStatus } from "../operators/operator.entity";
import { KycJobs, type KycService } from "./kyc.service";

/**
 * Follows up an applicant whose decision never arrived (a lost webhook):
 * Sumsub is asked outside the job's transaction; a completed review is
 * applied as its webhook would have been. While the operator is still
 * PENDING (no review yet, or RED RETRY and a resubmission to come) the next
 * check is queued, further out each time, until the schedule ends.
 */
export function registerKycJobs(worker: JobWorker, kyc: KycService): void {
  worker.register<{ event?: SumsubEvent } | undefined, typeof KycJobs.recheck>(
    KycJobs.recheck,
    async ({ em, prepared }, payload) => {
      if (!prepared) return;
      const outcome = prepared.event && (await kyc.applyEvent(em, prepared.event));
      if (outcome?.outcome === "applied" && outcome.kycStatus !== KycStatus.PENDING) return;
      kyc.scheduleRecheck(em, String(payload.applicantId), Number(payload.attempt) + 1);
    },
    (em, payload) => kyc.pendingReview(em, String(payload.applicantId)),
  );
}
