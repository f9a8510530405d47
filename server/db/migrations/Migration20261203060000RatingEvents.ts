import { DialectMigration } from "./dialect-migration";
import { taskEventKindsChange } from "./task-events-table";

/**
 * Ratings as task events: task_events records a rating given or changed
 * (RATED, status unchanged), so the other side hears of it live. The
 * table keeps every row, kind, status (DISPUTED), actor (ADMIN) and index.
 */
export class Migration20261203060000RatingEvents extends DialectMigration {
  protected readonly statements = taskEventKindsChange({
    statuses: "'POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED', 'DISPUTED'",
    actors: "'AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM', 'ADMIN'",
    kinds: "'STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED', 'TASK_CHANGED', 'TIPPED', 'RATED'",
    aside: "task_events__before_ratings",
  });
}
