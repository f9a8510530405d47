import { DialectMigration } from "./dialect-migration";

/**
 * x402 payments (server/x402): a task paid by an agent's own wallet keeps the
 * paying address, the x402 scheme and the settlement transaction. Such a
 * task's refund goes back to the paying address: with the `exact` scheme the
 * funding wallet forwards it (a PAYBACK row in the chain outbox). SQLite keeps
 * enum checks in the table's definition, so chain_txs is rebuilt there (no
 * other table points at it): its rows copied aside, the table dropped and
 * created anew under its own name, the rows put back and its indexes made again.
 */
const CHAIN_TX_COLUMNS = "`id`, `chain_key`, `kind`, `intent_key`, `task_id`, `signer`, `recipient`, `amount`, `status`, `nonce`, `to_address`, `data`, `raw`, `tx_hash`, `previous_hashes`, `block_number`, `attempts`, `failures`, `next_attempt_at`, `locked_until`, `last_error`, `created_at`, `updated_at`";
const SQLITE = [
  "alter table `tasks` add column `paid_by` text null;",
  "alter table `tasks` add column `payment_scheme` text null;",
  "alter table `tasks` add column `payment_tx` text null;",
  "create unique index `tasks_payment_tx_unique` on `tasks` (`payment_tx`);",
  "create table `chain_txs__before_payback` as select * from `chain_txs`;",
  "drop table `chain_txs`;",
  "create table `chain_txs` (`id` integer not null primary key autoincrement, `chain_key` text not null, `kind` text check (`kind` in ('MINT', 'APPROVE', 'FUND', 'RELEASE', 'REFUND', 'PAYBACK', 'AMEND', 'TIP')) not null, `intent_key` text not null, `task_id` text null, `signer` text not null, `recipient` text null, `amount` bigint null, `status` text check (`status` in ('PENDING', 'SIGNED', 'SENT', 'MINED', 'REVERTED', 'SKIPPED', 'FAILED')) not null default 'PENDING', `nonce` integer null, `to_address` text null, `data` text null, `raw` text null, `tx_hash` text null, `previous_hashes` json not null, `block_number` bigint null, `attempts` integer not null default 0, `failures` integer not null default 0, `next_attempt_at` bigint not null, `locked_until` bigint null, `last_error` text null, `created_at` datetime not null, `updated_at` datetime not null, constraint `chain_txs_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade);",
  `insert into \`chain_txs\` (${CHAIN_TX_COLUMNS}) select ${CHAIN_TX_COLUMNS} from \`chain_txs__before_payback\`;`,
  "drop table `chain_txs__before_payback`;",
  "create unique index `chain_txs_intent_key_unique` on `chain_txs` (`intent_key`);",
  "create index `chain_txs_task_id_index` on `chain_txs` (`task_id`);",
  "create index `chain_txs_chain_key_signer_status_index` on `chain_txs` (`chain_key`, `signer`, `status`);",
  "create index `chain_txs_status_next_attempt_at_index` on `chain_txs` (`status`, `next_attempt_at`);",
];

const POSTGRESQL = [
  'alter table "tasks" add column "paid_by" varchar(42) null, add column "payment_scheme" varchar(40) null, add column "payment_tx" varchar(66) null;',
  'alter table "tasks" add constraint "tasks_payment_tx_unique" unique ("payment_tx");',
  'alter table "chain_txs" drop constraint if exists "chain_txs_kind_check";',
  `alter table "chain_txs" add constraint "chain_txs_kind_check" check("kind" in ('MINT', 'APPROVE', 'FUND', 'RELEASE', 'REFUND', 'PAYBACK', 'AMEND', 'TIP'));`,
];

export class Migration20261203050000X402Payments extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
