import type { Dialect } from "../db/dialect";
import { tablePruner, type Pruner } from "../jobs/retention";
import { TaskJobs } from "./task.service";
import { TERMINAL_STATUSES } from "./task.state-machine";

/** The length of a task id (a uuid in text). */
const UUID_LENGTH = 36;

/**
 * The task id inside a job's dedupe key (`expire:<id>`, `lapse:<id>:<ms>`),
 * after `prefix` characters, typed as tasks.id is, so the pruners below find
 * each job's task by its primary key instead of reading every task per job.
 */
function taskIdIn(column: string, prefix: number, dialect: Dialect): string {
  const id = `substr(${column}, ${prefix + 1}, ${UUID_LENGTH})`;
  return dialect === "postgresql" ? `cast(${id} as uuid)` : id;
}

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
      (dialect) => `status = 'PENDING' and kind = '${TaskJobs.expire}' and exists (select 1 from tasks where tasks.id = ${taskIdIn("jobs.dedupe_key", "expire:".length, dialect)} and tasks.status in (${statuses}))`,
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
      (dialect) => `status = 'PENDING' and kind = '${TaskJobs.reservationLapse}' and exists (select 1 from tasks where tasks.id = ${taskIdIn("jobs.dedupe_key", "lapse:".length, dialect)} and tasks.status <> 'ACCEPTED')`,
      () => [],
    ),
    name: "jobs (lapses of ended holds)",
  };
}
