import { tablePruner, type Pruner } from "../jobs/retention";
import { TaskJobs } from "./task.service";
import { TERMINAL_STATUSES } from "./task.state-machine";

/**
 * Expiry jobs of tasks that already ended (paid, cancelled, expired): due at
 * the deadline, they would find nothing to do, and until then they would
 * leave one pending row per settled task in the jobs table.
 */
export function mootExpiryJobs(): Pruner {
  const statuses = TERMINAL_STATUSES.map((status) => `'${status}'`).join(", ");
  return {
    ...tablePruner(
      "jobs",
      `status = 'PENDING' and kind = '${TaskJobs.expire}' and exists (select 1 from tasks where 'expire:' || tasks.id = jobs.dedupe_key and tasks.status in (${statuses}))`,
      () => [],
    ),
    name: "jobs (expiry of ended tasks)",
  };
}

/**
 * Lapse jobs of holds that already ended (proof came, the operator gave the
 * task up, or the task ended): due at the end of the accept window, they
 * would find the task no longer ACCEPTED and do nothing. A task ACCEPTED
 * again keeps the earlier hold's job until it runs (a no-op, then pruned as
 * finished).
 */
export function mootLapseJobs(): Pruner {
  return {
    ...tablePruner(
      "jobs",
      `status = 'PENDING' and kind = '${TaskJobs.reservationLapse}' and exists (select 1 from tasks where jobs.dedupe_key like 'lapse:' || tasks.id || ':%' and tasks.status <> 'ACCEPTED')`,
      () => [],
    ),
    name: "jobs (lapses of ended holds)",
  };
}
