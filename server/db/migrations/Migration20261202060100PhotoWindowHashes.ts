import { DialectMigration } from "./dialect-migration";

/**
 * The reuse check's hashes move to a table of their own, one row per window
 * of a photo (server/photos/photo-hash.entity.ts): the whole frame and 90%
 * crops, so a lightly cropped copy is found too. Each row keeps its four
 * 16-bit bands, each indexed. Photos hashed before keep their whole-frame
 * hash: it is copied over as window 0 (bands from its hex digits), and the
 * band columns of proof_photos go.
 */
const COPY_WHOLE_FRAME = (hexToInt: (digits: string) => string) =>
  `select id, 0, dhash, ${[0, 1, 2, 3].map((k) => hexToInt(`substr(dhash, ${k * 4 + 1}, 4)`)).join(", ")} from proof_photos where dhash is not null`;

const SQLITE = [
  "create table `proof_photo_hashes` (`id` integer not null primary key autoincrement, `photo_id` text not null, `window` integer not null, `hash` text not null, `band0` integer not null, `band1` integer not null, `band2` integer not null, `band3` integer not null, constraint `proof_photo_hashes_photo_id_foreign` foreign key(`photo_id`) references `proof_photos`(`id`) on delete cascade on update cascade);",
  "create index `proof_photo_hashes_photo_id_index` on `proof_photo_hashes` (`photo_id`);",
  "create index `proof_photo_hashes_band0_index` on `proof_photo_hashes` (`band0`);",
  "create index `proof_photo_hashes_band1_index` on `proof_photo_hashes` (`band1`);",
  "create index `proof_photo_hashes_band2_index` on `proof_photo_hashes` (`band2`);",
  "create index `proof_photo_hashes_band3_index` on `proof_photo_hashes` (`band3`);",
  // SQLite has no hex parsing: the bands are copied from the old columns.
  "insert into `proof_photo_hashes` (`photo_id`, `window`, `hash`, `band0`, `band1`, `band2`, `band3`) select `id`, 0, `dhash`, `dhash_band0`, `dhash_band1`, `dhash_band2`, `dhash_band3` from `proof_photos` where `dhash` is not null;",
  "drop index `proof_photos_dhash_band0_index`;",
  "drop index `proof_photos_dhash_band1_index`;",
  "drop index `proof_photos_dhash_band2_index`;",
  "drop index `proof_photos_dhash_band3_index`;",
  "alter table `proof_photos` drop column `dhash_band0`;",
  "alter table `proof_photos` drop column `dhash_band1`;",
  "alter table `proof_photos` drop column `dhash_band2`;",
  "alter table `proof_photos` drop column `dhash_band3`;",
];

const POSTGRESQL = [
  'create table "proof_photo_hashes" ("id" bigserial primary key, "photo_id" uuid not null, "window" smallint not null, "hash" varchar(16) not null, "band0" int not null, "band1" int not null, "band2" int not null, "band3" int not null);',
  'create index "proof_photo_hashes_photo_id_index" on "proof_photo_hashes" ("photo_id");',
  'create index "proof_photo_hashes_band0_index" on "proof_photo_hashes" ("band0");',
  'create index "proof_photo_hashes_band1_index" on "proof_photo_hashes" ("band1");',
  'create index "proof_photo_hashes_band2_index" on "proof_photo_hashes" ("band2");',
  'create index "proof_photo_hashes_band3_index" on "proof_photo_hashes" ("band3");',
  'alter table "proof_photo_hashes" add constraint "proof_photo_hashes_photo_id_foreign" foreign key ("photo_id") references "proof_photos" ("id") on update cascade on delete cascade;',
  `insert into "proof_photo_hashes" ("photo_id", "window", "hash", "band0", "band1", "band2", "band3") ${COPY_WHOLE_FRAME((digits) => `('x' || lpad(${digits}, 8, '0'))::bit(32)::int`)};`,
  'drop index "proof_photos_dhash_band0_index";',
  'drop index "proof_photos_dhash_band1_index";',
  'drop index "proof_photos_dhash_band2_index";',
  'drop index "proof_photos_dhash_band3_index";',
  'alter table "proof_photos" drop column "dhash_band0", drop column "dhash_band1", drop column "dhash_band2", drop column "dhash_band3";',
];

export class Migration20261202060100PhotoWindowHashes extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
