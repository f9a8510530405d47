import { DialectMigration } from "./dialect-migration";

/**
 * The Guardian's checks: each verification keeps the list of checks its score
 * follows from (`checks`, JSON; '[]' for verifications from before), and each
 * proof photo its perceptual hash (dHash, 16 hex digits) with the hash's four
 * 16-bit bands, each indexed, so the reuse check finds earlier near-duplicates
 * by equality on a band instead of reading every photo. Photos stored before
 * have no hash and are not compared.
 */
const SQLITE = [
  "alter table `proof_photos` add column `dhash` text null;",
  "alter table `proof_photos` add column `dhash_band0` integer null;",
  "alter table `proof_photos` add column `dhash_band1` integer null;",
  "alter table `proof_photos` add column `dhash_band2` integer null;",
  "alter table `proof_photos` add column `dhash_band3` integer null;",
  "create index `proof_photos_dhash_band0_index` on `proof_photos` (`dhash_band0`);",
  "create index `proof_photos_dhash_band1_index` on `proof_photos` (`dhash_band1`);",
  "create index `proof_photos_dhash_band2_index` on `proof_photos` (`dhash_band2`);",
  "create index `proof_photos_dhash_band3_index` on `proof_photos` (`dhash_band3`);",
  "alter table `verifications` add column `checks` json not null default '[]';",
];

const POSTGRESQL = [
  'alter table "proof_photos" add column "dhash" varchar(16) null, add column "dhash_band0" int null, add column "dhash_band1" int null, add column "dhash_band2" int null, add column "dhash_band3" int null;',
  'create index "proof_photos_dhash_band0_index" on "proof_photos" ("dhash_band0");',
  'create index "proof_photos_dhash_band1_index" on "proof_photos" ("dhash_band1");',
  'create index "proof_photos_dhash_band2_index" on "proof_photos" ("dhash_band2");',
  'create index "proof_photos_dhash_band3_index" on "proof_photos" ("dhash_band3");',
  "alter table \"verifications\" add column \"checks\" jsonb not null default '[]';",
];

export class Migration20261202050000GuardianChecks extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
