import type { JobWorker } from "../jobs/job.queue";
import { SessionJobs, type SessionService } from "./session.service";

/** The hourly sweep of browser sessions that can no longer sign anything in (expired, idle, or of a revoked key). */
export function registerSessionJobs(worker: JobWorker, sessions: SessionService): void {
  worker.register(SessionJobs.sweep, async ({ em }) => {
    await sessions.sweep(em);
  });
}
