import { DialectMigration } from "./dialect-migration";

/**
 * task_events.kind: the log also records a task's escrow being funded on
 * chain (ESCROW_FUNDED), the moment operators may take it; every earlier
 * row is a status change. SQLite appends an added column after the table's
 * constraints, so the table is rebuilt to read exactly as the entity
 * describes it (test/server/migrations.test.ts compares the two).
 */
const COLUMNS = "`id`, `task_id`, `from_status`, `to_status`, `actor_type`, `actor_id`, `reason`, `created_at`";

const SQLITE = [
  "alter table `task_events` rename to `task_events__before_kind`;",
  "create table `task_events` (`id` integer not null primary key autoincrement, `task_id` text not null, `from_status` text check (`from_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) null, `to_status` text check (`to_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `actor_type` text check (`actor_type` in ('AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM')) not null, `actor_id` text null, `reason` text null, `created_at` datetime not null, `kind` text check (`kind` in ('STATUS_CHANGED', 'ESCROW_FUNDED')) not null default 'STATUS_CHANGED', constraint `task_events_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade);",
  `insert into \`task_events\` (${COLUMNS}) select ${COLUMNS} from \`task_events__before_kind\` order by \`id\`;`,
  "drop table `task_events__before_kind`;",
  "create index `task_events_task_id_index` on `task_events` (`task_id`);",
  "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
];

const POSTGRESQL = [`alter table "task_events" add column "kind" text check ("kind" in ('STATUS_CHANGED', 'ESCROW_FUNDED')) not null default 'STATUS_CHANGED';`];

export class Migration20261130000000TaskEventKind extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
