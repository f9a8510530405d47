import { Migration } from "@mikro-orm/migrations";
import { dialectOf } from "../dialect";

/**
 * The initial schema. The statements come from MikroORM's schema generator
 * for each dialect (scripts/migration-sql.ts prints them), so the database
 * matches the entities exactly; test/server/migrations.test.ts proves it.
 */
const SQLITE = [
  "create table `agents` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `name` text not null, `email` text not null, primary key (`id`));",
  "create unique index `agents_email_unique` on `agents` (`email`);",
  "create table `jobs` (`id` integer not null primary key autoincrement, `kind` text not null, `payload` json not null, `status` text check (`status` in ('PENDING', 'DONE', 'FAILED')) not null default 'PENDING', `run_at` bigint not null, `attempts` integer not null default 0, `max_attempts` integer not null, `locked_until` bigint null, `last_error` text null, `dedupe_key` text null, `created_at` bigint not null);",
  "create unique index `jobs_dedupe_key_unique` on `jobs` (`dedupe_key`);",
  "create index `jobs_status_run_at_index` on `jobs` (`status`, `run_at`);",
  "create table `operators` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `name` text not null, `email` text not null, `payout_address` text not null, `kyc_status` text check (`kyc_status` in ('PENDING', 'APPROVED', 'REJECTED')) not null default 'PENDING', `is_mock` integer not null default false, primary key (`id`));",
  "create unique index `operators_email_unique` on `operators` (`email`);",
  "create table `api_keys` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `hash` text not null, `prefix` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `agent_id` text null, `operator_id` text null, `revoked_at` datetime null, constraint `api_keys_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on delete set null on update cascade, constraint `api_keys_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create unique index `api_keys_hash_unique` on `api_keys` (`hash`);",
  "create index `api_keys_operator_id_index` on `api_keys` (`operator_id`);",
  "create index `api_keys_agent_id_index` on `api_keys` (`agent_id`);",
  "create table `tasks` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `agent_id` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `status` text check (`status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `title` text not null, `description` text not null, `task_type` text check (`task_type` in ('PHOTO', 'DELIVERY', 'INSPECTION', 'VERIFICATION', 'CUSTOM')) not null, `lat` double not null, `lng` double not null, `address` text null, `reward_units` bigint not null, `fee_units` bigint not null, `deadline` datetime not null, `proof_requirements` json not null, `operator_id` text null, `attempts` integer not null, `max_attempts` integer not null, `test_scenario` text check (`test_scenario` in ('APPROVE', 'REVIEW', 'REJECT', 'EXPIRE', 'MANUAL')) null, `idempotency_key` text null, `request_hash` text null, `version` integer not null default 1, constraint `tasks_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, constraint `tasks_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `tasks_agent_id_index` on `tasks` (`agent_id`);",
  "create index `tasks_operator_id_index` on `tasks` (`operator_id`);",
  "create index `tasks_agent_id_created_at_index` on `tasks` (`agent_id`, `created_at`);",
  "create index `tasks_status_lat_lng_index` on `tasks` (`status`, `lat`, `lng`);",
  "create unique index `tasks_agent_id_idempotency_key_unique` on `tasks` (`agent_id`, `idempotency_key`);",
  "create table `proofs` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `operator_id` text not null, `attempt` integer not null, `notes` text null, constraint `proofs_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, constraint `proofs_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on update cascade, primary key (`id`));",
  "create index `proofs_task_id_index` on `proofs` (`task_id`);",
  "create index `proofs_operator_id_index` on `proofs` (`operator_id`);",
  "create unique index `proofs_task_id_attempt_unique` on `proofs` (`task_id`, `attempt`);",
  "create table `proof_photos` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `proof_id` text not null, `position` integer not null, `content_type` text not null, `byte_size` integer not null, `sha256` text not null, `data` blob not null, constraint `proof_photos_proof_id_foreign` foreign key(`proof_id`) references `proofs`(`id`) on update cascade, primary key (`id`));",
  "create index `proof_photos_proof_id_index` on `proof_photos` (`proof_id`);",
  "create table `ledger_entries` (`id` integer not null primary key autoincrement, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `kind` text check (`kind` in ('DEPOSIT', 'ESCROW_FUND', 'PAYOUT', 'FEE', 'REFUND')) not null, `from_account` text not null, `to_account` text not null, `amount` bigint not null, `task_id` text null, `created_at` datetime not null, constraint `ledger_entries_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade);",
  "create index `ledger_entries_task_id_index` on `ledger_entries` (`task_id`);",
  "create index `ledger_entries_mode_to_account_index` on `ledger_entries` (`mode`, `to_account`);",
  "create index `ledger_entries_mode_from_account_index` on `ledger_entries` (`mode`, `from_account`);",
  "create table `task_events` (`id` integer not null primary key autoincrement, `task_id` text not null, `from_status` text check (`from_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) null, `to_status` text check (`to_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `actor_type` text check (`actor_type` in ('AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM')) not null, `actor_id` text null, `reason` text null, `created_at` datetime not null, constraint `task_events_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade);",
  "create index `task_events_task_id_index` on `task_events` (`task_id`);",
  "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
  "create table `verifications` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `proof_id` text not null, `score` integer not null, `verdict` text check (`verdict` in ('APPROVE', 'REVIEW', 'REJECT')) not null, `reasons` json not null, `scorer` text not null, constraint `verifications_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, constraint `verifications_proof_id_foreign` foreign key(`proof_id`) references `proofs`(`id`) on update cascade, primary key (`id`));",
  "create index `verifications_task_id_index` on `verifications` (`task_id`);",
  "create unique index `verifications_proof_id_unique` on `verifications` (`proof_id`);",
];

const POSTGRESQL = [
  "create table \"agents\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"name\" varchar(200) not null, \"email\" varchar(320) not null, constraint \"agents_pkey\" primary key (\"id\"));",
  "alter table \"agents\" add constraint \"agents_email_unique\" unique (\"email\");",
  "create table \"jobs\" (\"id\" bigserial primary key, \"kind\" varchar(64) not null, \"payload\" jsonb not null, \"status\" text check (\"status\" in ('PENDING', 'DONE', 'FAILED')) not null default 'PENDING', \"run_at\" bigint not null, \"attempts\" int not null default 0, \"max_attempts\" int not null, \"locked_until\" bigint null, \"last_error\" text null, \"dedupe_key\" varchar(200) null, \"created_at\" bigint not null);",
  "alter table \"jobs\" add constraint \"jobs_dedupe_key_unique\" unique (\"dedupe_key\");",
  "create index \"jobs_status_run_at_index\" on \"jobs\" (\"status\", \"run_at\");",
  "create table \"operators\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"name\" varchar(200) not null, \"email\" varchar(320) not null, \"payout_address\" varchar(42) not null, \"kyc_status\" text check (\"kyc_status\" in ('PENDING', 'APPROVED', 'REJECTED')) not null default 'PENDING', \"is_mock\" boolean not null default false, constraint \"operators_pkey\" primary key (\"id\"));",
  "alter table \"operators\" add constraint \"operators_email_unique\" unique (\"email\");",
  "create table \"api_keys\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"hash\" varchar(64) not null, \"prefix\" varchar(24) not null, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"agent_id\" uuid null, \"operator_id\" uuid null, \"revoked_at\" timestamptz null, constraint \"api_keys_pkey\" primary key (\"id\"));",
  "alter table \"api_keys\" add constraint \"api_keys_hash_unique\" unique (\"hash\");",
  "create index \"api_keys_operator_id_index\" on \"api_keys\" (\"operator_id\");",
  "create index \"api_keys_agent_id_index\" on \"api_keys\" (\"agent_id\");",
  "create table \"tasks\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"agent_id\" uuid not null, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"status\" text check (\"status\" in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, \"title\" varchar(200) not null, \"description\" text not null, \"task_type\" text check (\"task_type\" in ('PHOTO', 'DELIVERY', 'INSPECTION', 'VERIFICATION', 'CUSTOM')) not null, \"lat\" double precision not null, \"lng\" double precision not null, \"address\" varchar(500) null, \"reward_units\" bigint not null, \"fee_units\" bigint not null, \"deadline\" timestamptz not null, \"proof_requirements\" jsonb not null, \"operator_id\" uuid null, \"attempts\" int not null, \"max_attempts\" int not null, \"test_scenario\" text check (\"test_scenario\" in ('APPROVE', 'REVIEW', 'REJECT', 'EXPIRE', 'MANUAL')) null, \"idempotency_key\" varchar(255) null, \"request_hash\" varchar(64) null, \"version\" int not null default 1, constraint \"tasks_pkey\" primary key (\"id\"));",
  "create index \"tasks_agent_id_created_at_index\" on \"tasks\" (\"agent_id\", \"created_at\");",
  "create index \"tasks_status_lat_lng_index\" on \"tasks\" (\"status\", \"lat\", \"lng\");",
  "alter table \"tasks\" add constraint \"tasks_agent_id_idempotency_key_unique\" unique (\"agent_id\", \"idempotency_key\");",
  "create table \"proofs\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"task_id\" uuid not null, \"operator_id\" uuid not null, \"attempt\" int not null, \"notes\" text null, constraint \"proofs_pkey\" primary key (\"id\"));",
  "alter table \"proofs\" add constraint \"proofs_task_id_attempt_unique\" unique (\"task_id\", \"attempt\");",
  "create table \"proof_photos\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"proof_id\" uuid not null, \"position\" int not null, \"content_type\" varchar(100) not null, \"byte_size\" int not null, \"sha256\" varchar(64) not null, \"data\" bytea not null, constraint \"proof_photos_pkey\" primary key (\"id\"));",
  "create index \"proof_photos_proof_id_index\" on \"proof_photos\" (\"proof_id\");",
  "create table \"ledger_entries\" (\"id\" bigserial primary key, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"kind\" text check (\"kind\" in ('DEPOSIT', 'ESCROW_FUND', 'PAYOUT', 'FEE', 'REFUND')) not null, \"from_account\" varchar(80) not null, \"to_account\" varchar(80) not null, \"amount\" bigint not null, \"task_id\" uuid null, \"created_at\" timestamptz not null);",
  "create index \"ledger_entries_mode_to_account_index\" on \"ledger_entries\" (\"mode\", \"to_account\");",
  "create index \"ledger_entries_mode_from_account_index\" on \"ledger_entries\" (\"mode\", \"from_account\");",
  "create table \"task_events\" (\"id\" bigserial primary key, \"task_id\" uuid not null, \"from_status\" text check (\"from_status\" in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) null, \"to_status\" text check (\"to_status\" in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, \"actor_type\" text check (\"actor_type\" in ('AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM')) not null, \"actor_id\" uuid null, \"reason\" varchar(1000) null, \"created_at\" timestamptz not null);",
  "create index \"task_events_task_id_id_index\" on \"task_events\" (\"task_id\", \"id\");",
  "create table \"verifications\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"task_id\" uuid not null, \"proof_id\" uuid not null, \"score\" int not null, \"verdict\" text check (\"verdict\" in ('APPROVE', 'REVIEW', 'REJECT')) not null, \"reasons\" jsonb not null, \"scorer\" varchar(64) not null, constraint \"verifications_pkey\" primary key (\"id\"));",
  "alter table \"verifications\" add constraint \"verifications_proof_id_unique\" unique (\"proof_id\");",
  "alter table \"api_keys\" add constraint \"api_keys_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade on delete set null;",
  "alter table \"api_keys\" add constraint \"api_keys_operator_id_foreign\" foreign key (\"operator_id\") references \"operators\" (\"id\") on update cascade on delete set null;",
  "alter table \"tasks\" add constraint \"tasks_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade;",
  "alter table \"tasks\" add constraint \"tasks_operator_id_foreign\" foreign key (\"operator_id\") references \"operators\" (\"id\") on update cascade on delete set null;",
  "alter table \"proofs\" add constraint \"proofs_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade;",
  "alter table \"proofs\" add constraint \"proofs_operator_id_foreign\" foreign key (\"operator_id\") references \"operators\" (\"id\") on update cascade;",
  "alter table \"proof_photos\" add constraint \"proof_photos_proof_id_foreign\" foreign key (\"proof_id\") references \"proofs\" (\"id\") on update cascade;",
  "alter table \"ledger_entries\" add constraint \"ledger_entries_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade on delete set null;",
  "alter table \"task_events\" add constraint \"task_events_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade;",
  "alter table \"verifications\" add constraint \"verifications_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade;",
  "alter table \"verifications\" add constraint \"verifications_proof_id_foreign\" foreign key (\"proof_id\") references \"proofs\" (\"id\") on update cascade;",
];

export class Migration20261129000000Initial extends Migration {
  override async up(): Promise<void> {
    const statements = dialectOf(this.driver.getPlatform()) === "postgresql" ? POSTGRESQL : SQLITE;
    for (const sql of statements) this.addSql(sql);
  }
}
