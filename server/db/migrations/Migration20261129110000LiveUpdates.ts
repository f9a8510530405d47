import { DialectMigration } from "./dialect-migration";

/**
 * Webhook endpoints, deliveries and their attempt log, and the durable
 * cursor of the webhook dispatcher (server/webhooks/). Table statements from
 * `npm run migration:sql`. The dispatcher starts at the end of the existing
 * event log: endpoints do not exist before this migration, so no earlier
 * event has anywhere to go.
 */
const SQLITE = [
  "create table `event_cursors` (`name` text not null, `position` bigint not null, `updated_at` datetime not null, primary key (`name`));",
  "create table `webhook_endpoints` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `agent_id` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `task_id` text null, `url` text not null, `description` text null, `event_types` json not null, `sealed_secret` text not null, `secret_fingerprint` text not null, `status` text check (`status` in ('ACTIVE', 'DISABLED')) not null, `disabled_at` datetime null, `disabled_reason` text null, `consecutive_failures` integer not null, `last_success_at` datetime null, `last_failure_at` datetime null, `idempotency_key` text null, `request_hash` text null, constraint `webhook_endpoints_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, constraint `webhook_endpoints_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `webhook_endpoints_agent_id_index` on `webhook_endpoints` (`agent_id`);",
  "create index `webhook_endpoints_task_id_index` on `webhook_endpoints` (`task_id`);",
  "create index `webhook_endpoints_agent_id_mode_index` on `webhook_endpoints` (`agent_id`, `mode`);",
  "create unique index `webhook_endpoints_agent_id_idempotency_key_unique` on `webhook_endpoints` (`agent_id`, `idempotency_key`);",
  "create table `webhook_deliveries` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `endpoint_id` text not null, `task_id` text null, `event_id` text not null, `event_type` text not null, `payload` text not null, `status` text check (`status` in ('PENDING', 'DELIVERED', 'FAILED')) not null default 'PENDING', `attempts` integer not null default 0, `next_attempt_at` bigint not null, `locked_until` bigint null, `retry_until` bigint not null, `delivered_at` datetime null, `last_status_code` integer null, `last_error` text null, constraint `webhook_deliveries_endpoint_id_foreign` foreign key(`endpoint_id`) references `webhook_endpoints`(`id`) on update cascade, constraint `webhook_deliveries_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `webhook_deliveries_endpoint_id_index` on `webhook_deliveries` (`endpoint_id`);",
  "create index `webhook_deliveries_task_id_index` on `webhook_deliveries` (`task_id`);",
  "create index `webhook_deliveries_endpoint_id_created_at_index` on `webhook_deliveries` (`endpoint_id`, `created_at`);",
  "create index `webhook_deliveries_status_next_attempt_at_index` on `webhook_deliveries` (`status`, `next_attempt_at`);",
  "create unique index `webhook_deliveries_endpoint_id_event_id_unique` on `webhook_deliveries` (`endpoint_id`, `event_id`);",
  "create table `webhook_attempts` (`id` integer not null primary key autoincrement, `delivery_id` text not null, `attempt` integer not null, `started_at` datetime not null, `duration_ms` integer not null, `succeeded` integer not null, `status_code` integer null, `error` text null, `response_excerpt` text null, constraint `webhook_attempts_delivery_id_foreign` foreign key(`delivery_id`) references `webhook_deliveries`(`id`) on update cascade);",
  "create index `webhook_attempts_delivery_id_index` on `webhook_attempts` (`delivery_id`);",
  "create index `webhook_attempts_delivery_id_id_index` on `webhook_attempts` (`delivery_id`, `id`);",
  "insert into `event_cursors` (`name`, `position`, `updated_at`) select 'webhooks', coalesce(max(`id`), 0), cast(strftime('%s', 'now') as integer) * 1000 from `task_events`;",
];

const POSTGRESQL = [
  "create table \"event_cursors\" (\"name\" varchar(64) not null, \"position\" bigint not null, \"updated_at\" timestamptz not null, constraint \"event_cursors_pkey\" primary key (\"name\"));",
  "create table \"webhook_endpoints\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"agent_id\" uuid not null, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"task_id\" uuid null, \"url\" varchar(2048) not null, \"description\" varchar(500) null, \"event_types\" jsonb not null, \"sealed_secret\" text not null, \"secret_fingerprint\" varchar(16) not null, \"status\" text check (\"status\" in ('ACTIVE', 'DISABLED')) not null, \"disabled_at\" timestamptz null, \"disabled_reason\" varchar(500) null, \"consecutive_failures\" int not null, \"last_success_at\" timestamptz null, \"last_failure_at\" timestamptz null, \"idempotency_key\" varchar(255) null, \"request_hash\" varchar(64) null, constraint \"webhook_endpoints_pkey\" primary key (\"id\"));",
  "create index \"webhook_endpoints_agent_id_mode_index\" on \"webhook_endpoints\" (\"agent_id\", \"mode\");",
  "alter table \"webhook_endpoints\" add constraint \"webhook_endpoints_agent_id_idempotency_key_unique\" unique (\"agent_id\", \"idempotency_key\");",
  "create table \"webhook_deliveries\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"endpoint_id\" uuid not null, \"task_id\" uuid null, \"event_id\" varchar(64) not null, \"event_type\" varchar(64) not null, \"payload\" text not null, \"status\" text check (\"status\" in ('PENDING', 'DELIVERED', 'FAILED')) not null default 'PENDING', \"attempts\" int not null default 0, \"next_attempt_at\" bigint not null, \"locked_until\" bigint null, \"retry_until\" bigint not null, \"delivered_at\" timestamptz null, \"last_status_code\" int null, \"last_error\" varchar(500) null, constraint \"webhook_deliveries_pkey\" primary key (\"id\"));",
  "create index \"webhook_deliveries_endpoint_id_created_at_index\" on \"webhook_deliveries\" (\"endpoint_id\", \"created_at\");",
  "create index \"webhook_deliveries_status_next_attempt_at_index\" on \"webhook_deliveries\" (\"status\", \"next_attempt_at\");",
  "alter table \"webhook_deliveries\" add constraint \"webhook_deliveries_endpoint_id_event_id_unique\" unique (\"endpoint_id\", \"event_id\");",
  "create table \"webhook_attempts\" (\"id\" bigserial primary key, \"delivery_id\" uuid not null, \"attempt\" int not null, \"started_at\" timestamptz not null, \"duration_ms\" int not null, \"succeeded\" boolean not null, \"status_code\" int null, \"error\" varchar(500) null, \"response_excerpt\" varchar(600) null);",
  "create index \"webhook_attempts_delivery_id_id_index\" on \"webhook_attempts\" (\"delivery_id\", \"id\");",
  "alter table \"webhook_endpoints\" add constraint \"webhook_endpoints_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade;",
  "alter table \"webhook_endpoints\" add constraint \"webhook_endpoints_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade on delete set null;",
  "alter table \"webhook_deliveries\" add constraint \"webhook_deliveries_endpoint_id_foreign\" foreign key (\"endpoint_id\") references \"webhook_endpoints\" (\"id\") on update cascade;",
  "alter table \"webhook_deliveries\" add constraint \"webhook_deliveries_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade on delete set null;",
  "alter table \"webhook_attempts\" add constraint \"webhook_attempts_delivery_id_foreign\" foreign key (\"delivery_id\") references \"webhook_deliveries\" (\"id\") on update cascade;",
  "insert into \"event_cursors\" (\"name\", \"position\", \"updated_at\") select 'webhooks', coalesce(max(\"id\"), 0), now() from \"task_events\";",
];

export class Migration20261129110000LiveUpdates extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
