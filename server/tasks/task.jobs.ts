import type { JobWorker } from "../jobs/job.queue";
import { TaskJobs, type TaskService } from "./task.service";

export function registerTaskJobs(worker: JobWorker, tasks: TaskService): void {
  worker.register(TaskJobs.expire, ({ em }, payload) => tasks.expire(em, String(payload.taskId)));
  worker.register(TaskJobs.reservationLapse, ({ em }, payload) => tasks.lapseReservation(em, payload.taskId, payload.acceptedAt));
  worker.register(TaskJobs.releaseHold, ({ em }, payload) => tasks.endReleaseHold(em, payload.taskId));
}
