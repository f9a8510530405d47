import { DialectMigration } from "./dialect-migration";

/**
 * Browser sessions of the web app (server/sessions/): an API key exchanged
 * for a random cookie token, stored as its HMAC, with its idle and absolute
 * expiry in epoch milliseconds. Deleting a session signs it out everywhere.
 */
const SQLITE = [
  "create table `browser_sessions` (`id` text not null, `token_hash` text not null, `key_id` text not null, `created_at` bigint not null, `last_used_at` bigint not null, `expires_at` bigint not null, constraint `browser_sessions_key_id_foreign` foreign key(`key_id`) references `api_keys`(`id`) on delete cascade on update cascade, primary key (`id`));",
  "create unique index `browser_sessions_token_hash_unique` on `browser_sessions` (`token_hash`);",
  "create index `browser_sessions_last_used_at_index` on `browser_sessions` (`last_used_at`);",
  "create index `browser_sessions_expires_at_index` on `browser_sessions` (`expires_at`);",
  "create index `browser_sessions_key_id_index` on `browser_sessions` (`key_id`);",
];

const POSTGRESQL = [
  'create table "browser_sessions" ("id" uuid not null, "token_hash" varchar(64) not null, "key_id" uuid not null, "created_at" bigint not null, "last_used_at" bigint not null, "expires_at" bigint not null, constraint "browser_sessions_pkey" primary key ("id"));',
  'alter table "browser_sessions" add constraint "browser_sessions_token_hash_unique" unique ("token_hash");',
  'create index "browser_sessions_last_used_at_index" on "browser_sessions" ("last_used_at");',
  'create index "browser_sessions_expires_at_index" on "browser_sessions" ("expires_at");',
  'create index "browser_sessions_key_id_index" on "browser_sessions" ("key_id");',
  'alter table "browser_sessions" add constraint "browser_sessions_key_id_foreign" foreign key ("key_id") references "api_keys" ("id") on update cascade on delete cascade;',
];

export class Migration20261202080000BrowserSessions extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
