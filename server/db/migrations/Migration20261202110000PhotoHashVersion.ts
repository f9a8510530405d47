import { DialectMigration } from "./dialect-migration";

/**
 * Which hash method a proof photo's hashes come from (HASH_VERSION in
 * server/photos/photo.hash.ts): 0 for the whole-frame hash alone that the
 * window hashes migration copied as window 0, 1 for every window. Photos
 * that already have a hash of every window (16 rows, uploaded since), and
 * stored photos that never decoded (nothing to hash), start at 1; the rest
 * are hashed again by the background job (server/photos/photo.jobs.ts).
 */
const UP_TO_DATE = (yes: string, no: string, q: (name: string) => string) =>
  `update ${q("proof_photos")} set ${q("hash_version")} = 1 where (${q("stored")} = ${yes} and ${q("has_copies")} = ${no}) or (select count(*) from ${q("proof_photo_hashes")} where ${q("proof_photo_hashes")}.${q("photo_id")} = ${q("proof_photos")}.${q("id")}) = 16;`;

const SQLITE = [
  "alter table `proof_photos` add column `hash_version` integer not null default 0;",
  UP_TO_DATE("1", "0", (name) => `\`${name}\``),
  "create index `proof_photos_hash_version_index` on `proof_photos` (`hash_version`);",
];

const POSTGRESQL = [
  'alter table "proof_photos" add column "hash_version" smallint not null default 0;',
  UP_TO_DATE("true", "false", (name) => `"${name}"`),
  'create index "proof_photos_hash_version_index" on "proof_photos" ("hash_version");',
];

export class Migration20261202110000PhotoHashVersion extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
