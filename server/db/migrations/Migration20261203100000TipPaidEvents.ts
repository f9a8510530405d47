import { DialectMigration } from "./dialect-migration";

/**
 * A tip reaching the operator on chain as a task event: task_events records
 * TIP_PAID (status unchanged), so both sides' live views and the agent's
 * webhooks (task.tip_paid) hear of it. SQLite cannot change a check
 * constraint, so task_events is rebuilt as
 * Migration20261203060000RatingEvents rebuilt it, with every row, kind,
 * status (DISPUTED), actor (ADMIN) and index kept
 * (test/server/migrations.test.ts compares the result with the entities' schema).
 */
const EVENT_COLUMNS = "`id`, `task_id`, `from_status`, `to_status`, `actor_type`, `actor_id`, `reason`, `created_at`, `kind`";
const STATUSES = "'POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED', 'DISPUTED'";
const ACTORS = "'AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM', 'ADMIN'";
const KINDS = "'STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED', 'TASK_CHANGED', 'TIPPED', 'RATED', 'TIP_PAID'";

const SQLITE = [
  // task_messages points at task_events: the rows are copied aside and the table made anew under its own name, its references checked at commit.
  "pragma defer_foreign_keys = on;",
  "create table `task_events__before_tip_paid` as select * from `task_events`;",
  "drop table `task_events`;",
  `create table \`task_events\` (\`id\` integer not null primary key autoincrement, \`task_id\` text not null, \`from_status\` text check (\`from_status\` in (${STATUSES})) null, \`to_status\` text check (\`to_status\` in (${STATUSES})) not null, \`actor_type\` text check (\`actor_type\` in (${ACTORS})) not null, \`actor_id\` text null, \`reason\` text null, \`created_at\` datetime not null, \`kind\` text check (\`kind\` in (${KINDS})) not null default 'STATUS_CHANGED', constraint \`task_events_task_id_foreign\` foreign key(\`task_id\`) references \`tasks\`(\`id\`) on update cascade);`,
  `insert into \`task_events\` (${EVENT_COLUMNS}) select ${EVENT_COLUMNS} from \`task_events__before_tip_paid\` order by \`id\`;`,
  "drop table `task_events__before_tip_paid`;",
  "create index `task_events_task_id_index` on `task_events` (`task_id`);",
  "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
  "create index `task_events_actor_id_to_status_index` on `task_events` (`actor_id`, `to_status`);",
];

const POSTGRESQL = [
  'alter table "task_events" drop constraint if exists "task_events_kind_check";',
  `alter table "task_events" add constraint "task_events_kind_check" check("kind" in (${KINDS}));`,
];

export class Migration20261203100000TipPaidEvents extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
