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
