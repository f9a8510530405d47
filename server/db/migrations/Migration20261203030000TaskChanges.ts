import { DialectMigration } from "./dialect-migration";

/**
 * Changing a task and tipping its operator: task_events records changes
 * (TASK_CHANGED) and tips (TIPPED); the chain outbox amends escrows (AMEND)
 * and pays tips (TIP); the ledger books tips (TIP); task_tips holds each
 * tip and its transaction. SQLite cannot change a check constraint, so its
 * three tables are rebuilt with every row kept (test/server/migrations.test.ts
 * compares the result with the entities' schema).
 */
const EVENT_COLUMNS = "`id`, `task_id`, `from_status`, `to_status`, `actor_type`, `actor_id`, `reason`, `created_at`, `kind`";
const TX_COLUMNS =
  "`id`, `chain_key`, `kind`, `intent_key`, `task_id`, `signer`, `recipient`, `amount`, `status`, `nonce`, `to_address`, `data`, `raw`, `tx_hash`, `previous_hashes`, `block_number`, `attempts`, `failures`, `next_attempt_at`, `locked_until`, `last_error`, `created_at`, `updated_at`";
const LEDGER_COLUMNS = "`id`, `mode`, `kind`, `from_account`, `to_account`, `amount`, `task_id`, `created_at`";

const SQLITE = [
  // task_messages points at task_events: renaming the table would carry that reference to the copy dropped below,
  // so the rows are copied aside and the table made anew under its own name, its references checked at commit.
  "pragma defer_foreign_keys = on;",
  "create table `task_events__before_changes` as select * from `task_events`;",
  "drop table `task_events`;",
  "create table `task_events` (`id` integer not null primary key autoincrement, `task_id` text not null, `from_status` text check (`from_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) null, `to_status` text check (`to_status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `actor_type` text check (`actor_type` in ('AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM')) not null, `actor_id` text null, `reason` text null, `created_at` datetime not null, `kind` text check (`kind` in ('STATUS_CHANGED', 'ESCROW_FUNDED', 'MESSAGE_POSTED', 'TASK_CHANGED', 'TIPPED')) not null default 'STATUS_CHANGED', constraint `task_events_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade);",
  `insert into \`task_events\` (${EVENT_COLUMNS}) select ${EVENT_COLUMNS} from \`task_events__before_changes\` order by \`id\`;`,
  "drop table `task_events__before_changes`;",
  "create index `task_events_task_id_index` on `task_events` (`task_id`);",
  "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
  // Migration20261203010000Reputation's index, dropped with the old table.
  "create index `task_events_actor_id_to_status_index` on `task_events` (`actor_id`, `to_status`);",

  "alter table `chain_txs` rename to `chain_txs__before_changes`;",
  "create table `chain_txs` (`id` integer not null primary key autoincrement, `chain_key` text not null, `kind` text check (`kind` in ('MINT', 'APPROVE', 'FUND', 'RELEASE', 'REFUND', 'AMEND', 'TIP')) not null, `intent_key` text not null, `task_id` text null, `signer` text not null, `recipient` text null, `amount` bigint null, `status` text check (`status` in ('PENDING', 'SIGNED', 'SENT', 'MINED', 'REVERTED', 'SKIPPED', 'FAILED')) not null default 'PENDING', `nonce` integer null, `to_address` text null, `data` text null, `raw` text null, `tx_hash` text null, `previous_hashes` json not null, `block_number` bigint null, `attempts` integer not null default 0, `failures` integer not null default 0, `next_attempt_at` bigint not null, `locked_until` bigint null, `last_error` text null, `created_at` datetime not null, `updated_at` datetime not null, constraint `chain_txs_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade);",
  `insert into \`chain_txs\` (${TX_COLUMNS}) select ${TX_COLUMNS} from \`chain_txs__before_changes\` order by \`id\`;`,
  "drop table `chain_txs__before_changes`;",
  "create unique index `chain_txs_intent_key_unique` on `chain_txs` (`intent_key`);",
  "create index `chain_txs_task_id_index` on `chain_txs` (`task_id`);",
  "create index `chain_txs_chain_key_signer_status_index` on `chain_txs` (`chain_key`, `signer`, `status`);",
  "create index `chain_txs_status_next_attempt_at_index` on `chain_txs` (`status`, `next_attempt_at`);",

  "alter table `ledger_entries` rename to `ledger_entries__before_changes`;",
  "create table `ledger_entries` (`id` integer not null primary key autoincrement, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `kind` text check (`kind` in ('DEPOSIT', 'ESCROW_FUND', 'PAYOUT', 'FEE', 'REFUND', 'TIP')) not null, `from_account` text not null, `to_account` text not null, `amount` bigint not null, `task_id` text null, `created_at` datetime not null, constraint `ledger_entries_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade);",
  `insert into \`ledger_entries\` (${LEDGER_COLUMNS}) select ${LEDGER_COLUMNS} from \`ledger_entries__before_changes\` order by \`id\`;`,
  "drop table `ledger_entries__before_changes`;",
  "create index `ledger_entries_task_id_index` on `ledger_entries` (`task_id`);",
  "create index `ledger_entries_mode_to_account_index` on `ledger_entries` (`mode`, `to_account`);",
  "create index `ledger_entries_mode_from_account_index` on `ledger_entries` (`mode`, `from_account`);",

  "create table `task_tips` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `amount` bigint not null, `payee` text not null, `status` text check (`status` in ('PENDING', 'PAID')) not null, `tx_hash` text null, `note` text null, constraint `task_tips_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, primary key (`id`));",
  "create index `task_tips_task_id_index` on `task_tips` (`task_id`);",
  "create index `task_tips_task_id_created_at_index` on `task_tips` (`task_id`, `created_at`);",
];

const POSTGRESQL = [
  'alter table "task_events" drop constraint if exists "task_events_kind_check";',
  'alter table "task_events" add constraint "task_events_kind_check" check("kind" in (\'STATUS_CHANGED\', \'ESCROW_FUNDED\', \'MESSAGE_POSTED\', \'TASK_CHANGED\', \'TIPPED\'));',
  'alter table "chain_txs" drop constraint if exists "chain_txs_kind_check";',
  'alter table "chain_txs" add constraint "chain_txs_kind_check" check("kind" in (\'MINT\', \'APPROVE\', \'FUND\', \'RELEASE\', \'REFUND\', \'AMEND\', \'TIP\'));',
  'alter table "ledger_entries" drop constraint if exists "ledger_entries_kind_check";',
  'alter table "ledger_entries" add constraint "ledger_entries_kind_check" check("kind" in (\'DEPOSIT\', \'ESCROW_FUND\', \'PAYOUT\', \'FEE\', \'REFUND\', \'TIP\'));',
  'create table "task_tips" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "task_id" uuid not null, "mode" text check ("mode" in (\'TEST\', \'LIVE\')) not null, "amount" bigint not null, "payee" varchar(42) not null, "status" text check ("status" in (\'PENDING\', \'PAID\')) not null, "tx_hash" varchar(66) null, "note" varchar(500) null, constraint "task_tips_pkey" primary key ("id"));',
  'create index "task_tips_task_id_created_at_index" on "task_tips" ("task_id", "created_at");',
  'alter table "task_tips" add constraint "task_tips_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade;',
];

export class Migration20261203030000TaskChanges extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
