import { DialectMigration } from "./dialect-migration";

/**
 * On-chain settlement (server/chain, server/escrow, server/deposits): tasks'
 * escrows, the chain outbox with its per-key nonces, the indexer's handled
 * logs, reconciliation findings, linked wallets and deposits. Table
 * statements from `npm run migration:sql`.
 */
const SQLITE = [
  "create table `agent_wallets` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `agent_id` text not null, `address` text not null, constraint `agent_wallets_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, primary key (`id`));",
  "create unique index `agent_wallets_address_unique` on `agent_wallets` (`address`);",
  "create index `agent_wallets_agent_id_index` on `agent_wallets` (`agent_id`);",
  "create table `chain_events` (`id` integer not null primary key autoincrement, `chain_key` text not null, `tx_hash` text not null, `log_index` integer not null, `block_number` bigint not null, `name` text not null, `chain_task_id` text null, `args` json not null, `created_at` datetime not null);",
  "create index `chain_events_chain_key_chain_task_id_index` on `chain_events` (`chain_key`, `chain_task_id`);",
  "create unique index `chain_events_chain_key_tx_hash_log_index_unique` on `chain_events` (`chain_key`, `tx_hash`, `log_index`);",
  "create table `chain_signers` (`chain_key` text not null, `address` text not null, `next_nonce` integer not null, primary key (`chain_key`, `address`));",
  "create table `deposits` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `chain_key` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `tx_hash` text not null, `from_address` text not null, `amount` bigint not null, `block_number` bigint not null, `agent_id` text null, constraint `deposits_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `deposits_agent_id_index` on `deposits` (`agent_id`);",
  "create index `deposits_agent_id_created_at_index` on `deposits` (`agent_id`, `created_at`);",
  "create unique index `deposits_chain_key_tx_hash_unique` on `deposits` (`chain_key`, `tx_hash`);",
  "create table `escrow_discrepancies` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `chain_key` text not null, `task_id` text null, `kind` text not null, `detail` text not null, `fixed` integer not null, `dedupe_key` text null, constraint `escrow_discrepancies_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `escrow_discrepancies_task_id_index` on `escrow_discrepancies` (`task_id`);",
  "create unique index `escrow_discrepancies_dedupe_key_unique` on `escrow_discrepancies` (`dedupe_key`);",
  "create index `escrow_discrepancies_chain_key_created_at_index` on `escrow_discrepancies` (`chain_key`, `created_at`);",
  "create table `escrows` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `chain_key` text not null, `chain_id` integer not null, `contract` text not null, `chain_task_id` text not null, `funder` text not null, `amount` bigint not null, `fee` bigint not null, `deadline` bigint not null, `grace_period` integer not null, `status` text check (`status` in ('FUNDING', 'FUNDED', 'RELEASED', 'REFUNDED', 'UNFUNDED')) not null, `fund_tx_hash` text null, `release_tx_hash` text null, `refund_tx_hash` text null, `payee` text null, `version` integer not null default 1, constraint `escrows_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, primary key (`id`));",
  "create unique index `escrows_task_id_unique` on `escrows` (`task_id`);",
  "create index `escrows_status_index` on `escrows` (`status`);",
  "create unique index `escrows_chain_key_chain_task_id_unique` on `escrows` (`chain_key`, `chain_task_id`);",
  "create table `chain_txs` (`id` integer not null primary key autoincrement, `chain_key` text not null, `kind` text check (`kind` in ('MINT', 'APPROVE', 'FUND', 'RELEASE', 'REFUND')) not null, `intent_key` text not null, `task_id` text null, `signer` text not null, `recipient` text null, `amount` bigint null, `status` text check (`status` in ('PENDING', 'SIGNED', 'SENT', 'MINED', 'REVERTED', 'SKIPPED', 'FAILED')) not null default 'PENDING', `nonce` integer null, `to_address` text null, `data` text null, `raw` text null, `tx_hash` text null, `previous_hashes` json not null, `block_number` bigint null, `attempts` integer not null default 0, `failures` integer not null default 0, `next_attempt_at` bigint not null, `locked_until` bigint null, `last_error` text null, `created_at` datetime not null, `updated_at` datetime not null, constraint `chain_txs_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on delete set null on update cascade);",
  "create unique index `chain_txs_intent_key_unique` on `chain_txs` (`intent_key`);",
  "create index `chain_txs_task_id_index` on `chain_txs` (`task_id`);",
  "create index `chain_txs_chain_key_signer_status_index` on `chain_txs` (`chain_key`, `signer`, `status`);",
  "create index `chain_txs_status_next_attempt_at_index` on `chain_txs` (`status`, `next_attempt_at`);",
  "create table `wallet_challenges` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `agent_id` text not null, `message` text not null, `expires_at` datetime not null, `used_at` datetime null, constraint `wallet_challenges_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, primary key (`id`));",
  "create index `wallet_challenges_agent_id_index` on `wallet_challenges` (`agent_id`);",
  "create index `wallet_challenges_agent_id_created_at_index` on `wallet_challenges` (`agent_id`, `created_at`);",
];

const POSTGRESQL = [
  "create table \"agent_wallets\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"agent_id\" uuid not null, \"address\" varchar(42) not null, constraint \"agent_wallets_pkey\" primary key (\"id\"));",
  "alter table \"agent_wallets\" add constraint \"agent_wallets_address_unique\" unique (\"address\");",
  "create index \"agent_wallets_agent_id_index\" on \"agent_wallets\" (\"agent_id\");",
  "create table \"chain_events\" (\"id\" bigserial primary key, \"chain_key\" varchar(80) not null, \"tx_hash\" varchar(66) not null, \"log_index\" int not null, \"block_number\" bigint not null, \"name\" varchar(32) not null, \"chain_task_id\" varchar(66) null, \"args\" jsonb not null, \"created_at\" timestamptz not null);",
  "create index \"chain_events_chain_key_chain_task_id_index\" on \"chain_events\" (\"chain_key\", \"chain_task_id\");",
  "alter table \"chain_events\" add constraint \"chain_events_chain_key_tx_hash_log_index_unique\" unique (\"chain_key\", \"tx_hash\", \"log_index\");",
  "create table \"chain_signers\" (\"chain_key\" varchar(80) not null, \"address\" varchar(42) not null, \"next_nonce\" int not null, constraint \"chain_signers_pkey\" primary key (\"chain_key\", \"address\"));",
  "create table \"deposits\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"chain_key\" varchar(80) not null, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"tx_hash\" varchar(66) not null, \"from_address\" varchar(42) not null, \"amount\" bigint not null, \"block_number\" bigint not null, \"agent_id\" uuid null, constraint \"deposits_pkey\" primary key (\"id\"));",
  "create index \"deposits_agent_id_created_at_index\" on \"deposits\" (\"agent_id\", \"created_at\");",
  "alter table \"deposits\" add constraint \"deposits_chain_key_tx_hash_unique\" unique (\"chain_key\", \"tx_hash\");",
  "create table \"escrow_discrepancies\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"chain_key\" varchar(80) not null, \"task_id\" uuid null, \"kind\" varchar(64) not null, \"detail\" text not null, \"fixed\" boolean not null, \"dedupe_key\" varchar(200) null, constraint \"escrow_discrepancies_pkey\" primary key (\"id\"));",
  "alter table \"escrow_discrepancies\" add constraint \"escrow_discrepancies_dedupe_key_unique\" unique (\"dedupe_key\");",
  "create index \"escrow_discrepancies_chain_key_created_at_index\" on \"escrow_discrepancies\" (\"chain_key\", \"created_at\");",
  "create table \"escrows\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"task_id\" uuid not null, \"mode\" text check (\"mode\" in ('TEST', 'LIVE')) not null, \"chain_key\" varchar(80) not null, \"chain_id\" int not null, \"contract\" varchar(42) not null, \"chain_task_id\" varchar(66) not null, \"funder\" varchar(42) not null, \"amount\" bigint not null, \"fee\" bigint not null, \"deadline\" bigint not null, \"grace_period\" int not null, \"status\" text check (\"status\" in ('FUNDING', 'FUNDED', 'RELEASED', 'REFUNDED', 'UNFUNDED')) not null, \"fund_tx_hash\" varchar(66) null, \"release_tx_hash\" varchar(66) null, \"refund_tx_hash\" varchar(66) null, \"payee\" varchar(42) null, \"version\" int not null default 1, constraint \"escrows_pkey\" primary key (\"id\"));",
  "alter table \"escrows\" add constraint \"escrows_task_id_unique\" unique (\"task_id\");",
  "create index \"escrows_status_index\" on \"escrows\" (\"status\");",
  "alter table \"escrows\" add constraint \"escrows_chain_key_chain_task_id_unique\" unique (\"chain_key\", \"chain_task_id\");",
  "create table \"chain_txs\" (\"id\" bigserial primary key, \"chain_key\" varchar(80) not null, \"kind\" text check (\"kind\" in ('MINT', 'APPROVE', 'FUND', 'RELEASE', 'REFUND')) not null, \"intent_key\" varchar(200) not null, \"task_id\" uuid null, \"signer\" varchar(42) not null, \"recipient\" varchar(42) null, \"amount\" bigint null, \"status\" text check (\"status\" in ('PENDING', 'SIGNED', 'SENT', 'MINED', 'REVERTED', 'SKIPPED', 'FAILED')) not null default 'PENDING', \"nonce\" int null, \"to_address\" varchar(42) null, \"data\" text null, \"raw\" text null, \"tx_hash\" varchar(66) null, \"previous_hashes\" jsonb not null, \"block_number\" bigint null, \"attempts\" int not null default 0, \"failures\" int not null default 0, \"next_attempt_at\" bigint not null, \"locked_until\" bigint null, \"last_error\" text null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null);",
  "alter table \"chain_txs\" add constraint \"chain_txs_intent_key_unique\" unique (\"intent_key\");",
  "create index \"chain_txs_task_id_index\" on \"chain_txs\" (\"task_id\");",
  "create index \"chain_txs_chain_key_signer_status_index\" on \"chain_txs\" (\"chain_key\", \"signer\", \"status\");",
  "create index \"chain_txs_status_next_attempt_at_index\" on \"chain_txs\" (\"status\", \"next_attempt_at\");",
  "create table \"wallet_challenges\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"agent_id\" uuid not null, \"message\" text not null, \"expires_at\" timestamptz not null, \"used_at\" timestamptz null, constraint \"wallet_challenges_pkey\" primary key (\"id\"));",
  "create index \"wallet_challenges_agent_id_created_at_index\" on \"wallet_challenges\" (\"agent_id\", \"created_at\");",
  "alter table \"agent_wallets\" add constraint \"agent_wallets_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade;",
  "alter table \"deposits\" add constraint \"deposits_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade on delete set null;",
  "alter table \"escrow_discrepancies\" add constraint \"escrow_discrepancies_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade on delete set null;",
  "alter table \"escrows\" add constraint \"escrows_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade;",
  "alter table \"chain_txs\" add constraint \"chain_txs_task_id_foreign\" foreign key (\"task_id\") references \"tasks\" (\"id\") on update cascade on delete set null;",
  "alter table \"wallet_challenges\" add constraint \"wallet_challenges_agent_id_foreign\" foreign key (\"agent_id\") references \"agents\" (\"id\") on update cascade;",
];

export class Migration20261129130000ChainSettlement extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
