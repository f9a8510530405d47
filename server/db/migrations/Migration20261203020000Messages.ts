import { DialectMigration } from "./dialect-migration";

/**
 * Task messages: per-task threads between the agent and the operator
 * holding the task, with their photos (bytes in the photo store, as proof
 * photos'). Each message has a task event of the new kind MESSAGE_POSTED;
 * SQLite cannot change a column's check, so task_events is rebuilt (as in
 * Migration20261130000000TaskEventKind) with every row kept.
 */
const EVENT_COLUMNS = "`id`, `task_id`, `from_status`, `to_status`, `actor_type`, `actor_id`, `reason`, `created_at`, `kind`";

const SQLITE = [
  "alter table `task_events` rename to `task_events__before_messages`;",
  "create table `task_events` (`id` integer not null primary key autoincrement, `task_id` text not null, `from_status` text check (`from_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) null, `to_status` text check (`to_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `actor_type` text check (`actor_type` in ('AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM')) not null, `actor_id` text null, `reason` text null, `created_at` datetime not null, `kind` text check (`kind` in ('STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED')) not null default 'STATUS_CHANGED', constraint `task_events_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade);",
  `insert into \`task_events\` (${EVENT_COLUMNS}) select ${EVENT_COLUMNS} from \`task_events__before_messages\` order by \`id\`;`,
  "drop table `task_events__before_messages`;",
  "create index `task_events_task_id_index` on `task_events` (`task_id`);",
  "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
  // Migration20261203010000Reputation's index, dropped with the old table.
  "create index `task_events_actor_id_to_status_index` on `task_events` (`actor_id`, `to_status`);",
  "create table `task_messages` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `operator_id` text not null, `author` text check (`author` in ('AGENT', 'OPERATOR')) not null, `text` text null, `event_id` bigint not null, constraint `task_messages_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, constraint `task_messages_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on update cascade, constraint `task_messages_event_id_foreign` foreign key(`event_id`) references `task_events`(`id`) on update cascade, primary key (`id`));",
  "create index `task_messages_task_id_index` on `task_messages` (`task_id`);",
  "create index `task_messages_operator_id_index` on `task_messages` (`operator_id`);",
  "create index `task_messages_event_id_index` on `task_messages` (`event_id`);",
  "create unique index `task_messages_event_id_unique` on `task_messages` (`event_id`);",
  "create index `task_messages_task_id_operator_id_index` on `task_messages` (`task_id`, `operator_id`);",
  "create table `task_message_photos` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `message_id` text not null, `position` integer not null, `content_type` text not null, `byte_size` integer not null, `sha256` text not null, `has_copies` integer not null default false, `width` integer null, `height` integer null, constraint `task_message_photos_message_id_foreign` foreign key(`message_id`) references `task_messages`(`id`) on update cascade, primary key (`id`));",
  "create index `task_message_photos_message_id_index` on `task_message_photos` (`message_id`);",
];

const POSTGRESQL = [
  `alter table "task_events" drop constraint if exists "task_events_kind_check";`,
  `alter table "task_events" add constraint "task_events_kind_check" check("kind" in ('STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED'));`,
  `create table "task_messages" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "task_id" uuid not null, "operator_id" uuid not null, "author" text check ("author" in ('AGENT', 'OPERATOR')) not null, "text" text null, "event_id" bigint not null, constraint "task_messages_pkey" primary key ("id"));`,
  `alter table "task_messages" add constraint "task_messages_event_id_unique" unique ("event_id");`,
  `create index "task_messages_task_id_operator_id_index" on "task_messages" ("task_id", "operator_id");`,
  `create table "task_message_photos" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "message_id" uuid not null, "position" int not null, "content_type" varchar(100) not null, "byte_size" int not null, "sha256" varchar(64) not null, "has_copies" boolean not null default false, "width" int null, "height" int null, constraint "task_message_photos_pkey" primary key ("id"));`,
  `create index "task_message_photos_message_id_index" on "task_message_photos" ("message_id");`,
  `alter table "task_messages" add constraint "task_messages_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade;`,
  `alter table "task_messages" add constraint "task_messages_operator_id_foreign" foreign key ("operator_id") references "operators" ("id") on update cascade;`,
  `alter table "task_messages" add constraint "task_messages_event_id_foreign" foreign key ("event_id") references "task_events" ("id") on update cascade;`,
  `alter table "task_message_photos" add constraint "task_message_photos_message_id_foreign" foreign key ("message_id") references "task_messages" ("id") on update cascade;`,
];

export class Migration20261203020000Messages extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
