import { DialectMigration } from "./dialect-migration";

/**
 * Browser sessions for platform admins (the web app's admin screen): a
 * session belongs to an agent's or operator's API key, or to an admin
 * (signed in with an ho_admin_ key), so `key_id` becomes nullable and
 * `admin_id` is added. SQLite cannot drop a NOT NULL, so its table is
 * rebuilt with every session kept (nothing refers to it).
 */
const SQLITE = [
  "create table `browser_sessions__before_admins` as select * from `browser_sessions`;",
  "drop table `browser_sessions`;",
  "create table `browser_sessions` (`id` text not null, `token_hash` text not null, `key_id` text null, `admin_id` text null, `created_at` bigint not null, `last_used_at` bigint not null, `expires_at` bigint not null, constraint `browser_sessions_key_id_foreign` foreign key(`key_id`) references `api_keys`(`id`) on delete cascade on update cascade, constraint `browser_sessions_admin_id_foreign` foreign key(`admin_id`) references `admins`(`id`) on delete cascade on update cascade, primary key (`id`));",
  "insert into `browser_sessions` (`id`, `token_hash`, `key_id`, `admin_id`, `created_at`, `last_used_at`, `expires_at`) select `id`, `token_hash`, `key_id`, null, `created_at`, `last_used_at`, `expires_at` from `browser_sessions__before_admins`;",
  "drop table `browser_sessions__before_admins`;",
  "create unique index `browser_sessions_token_hash_unique` on `browser_sessions` (`token_hash`);",
  "create index `browser_sessions_last_used_at_index` on `browser_sessions` (`last_used_at`);",
  "create index `browser_sessions_expires_at_index` on `browser_sessions` (`expires_at`);",
  "create index `browser_sessions_admin_id_index` on `browser_sessions` (`admin_id`);",
  "create index `browser_sessions_key_id_index` on `browser_sessions` (`key_id`);",
];

const POSTGRESQL = [
  'alter table "browser_sessions" add column "admin_id" uuid null;',
  'alter table "browser_sessions" alter column "key_id" drop not null;',
  'create index "browser_sessions_admin_id_index" on "browser_sessions" ("admin_id");',
  'alter table "browser_sessions" add constraint "browser_sessions_admin_id_foreign" foreign key ("admin_id") references "admins" ("id") on update cascade on delete cascade;',
];

export class Migration20261203090000AdminSessions extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
