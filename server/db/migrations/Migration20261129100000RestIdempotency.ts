import { DialectMigration } from "./dialect-migration";

/** The REST API's idempotency keys (server/rest/idempotency.entity.ts); statements from `npm run migration:sql`. */
const SQLITE = [
  "create table `idempotency_keys` (`id` text not null, `scope` text not null, `key_hash` text not null, `request_hash` text not null, `response_status` integer null, `sealed_response` text null, `locked_until` bigint not null, `expires_at` bigint not null, `created_at` bigint not null, primary key (`id`));",
  "create index `idempotency_keys_expires_at_index` on `idempotency_keys` (`expires_at`);",
  "create unique index `idempotency_keys_scope_key_hash_unique` on `idempotency_keys` (`scope`, `key_hash`);",
];

const POSTGRESQL = [
  "create table \"idempotency_keys\" (\"id\" uuid not null, \"scope\" varchar(64) not null, \"key_hash\" varchar(64) not null, \"request_hash\" varchar(64) not null, \"response_status\" int null, \"sealed_response\" text null, \"locked_until\" bigint not null, \"expires_at\" bigint not null, \"created_at\" bigint not null, constraint \"idempotency_keys_pkey\" primary key (\"id\"));",
  "create index \"idempotency_keys_expires_at_index\" on \"idempotency_keys\" (\"expires_at\");",
  "alter table \"idempotency_keys\" add constraint \"idempotency_keys_scope_key_hash_unique\" unique (\"scope\", \"key_hash\");",
];

export class Migration20261129100000RestIdempotency extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
