import { DialectMigration } from "./dialect-migration";
import { taskEventKindsChange } from "./task-events-table";

/**
 * A tip reaching the operator on chain as a task event: task_events records
 * TIP_PAID (status unchanged), so both sides' live views and the agent's
 * webhooks (task.tip_paid) hear of it.
 */
export class Migration20261203100000TipPaidEvents extends DialectMigration {
  protected readonly statements = taskEventKindsChange({
    statuses: "'POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED', 'DISPUTED'",
    actors: "'AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM', 'ADMIN'",
    kinds: "'STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED', 'TASK_CHANGED', 'TIPPED', 'RATED', 'TIP_PAID'",
    aside: "task_events__before_tip_paid",
  });
}
