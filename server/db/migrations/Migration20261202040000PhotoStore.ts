import { DialectMigration } from "./dialect-migration";

/**
 * Proof photos move out of their rows into a photo store (database, directory
 * or S3: server/photos/). A row's bytes become optional (null once moved by
 * the background job, server/photos/photo.jobs.ts); `stored` says the store
 * holds the photo, with a display copy and thumbnail when `has_copies`; the
 * upright size and the EXIF capture time and place are kept for the API.
 * photo_blobs holds the objects of the database store. SQLite cannot make a
 * column nullable in place, so proof_photos is rebuilt there.
 */
const COLUMNS = "`id`, `created_at`, `updated_at`, `proof_id`, `position`, `content_type`, `byte_size`, `sha256`, `data`";

const SQLITE = [
  "create table `photo_blobs` (`key` text not null, `content_type` text not null, `data` blob not null, `created_at` datetime not null, primary key (`key`));",
  "alter table `proof_photos` rename to `proof_photos__before_store`;",
  "create table `proof_photos` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `proof_id` text not null, `position` integer not null, `content_type` text not null, `byte_size` integer not null, `sha256` text not null, `data` blob null, `stored` integer not null default false, `has_copies` integer not null default false, `width` integer null, `height` integer null, `taken_at` datetime null, `latitude` double null, `longitude` double null, constraint `proof_photos_proof_id_foreign` foreign key(`proof_id`) references `proofs`(`id`) on update cascade, primary key (`id`));",
  `insert into \`proof_photos\` (${COLUMNS}) select ${COLUMNS} from \`proof_photos__before_store\`;`,
  "drop table `proof_photos__before_store`;",
  "create index `proof_photos_proof_id_index` on `proof_photos` (`proof_id`);",
  "create index `proof_photos_stored_index` on `proof_photos` (`stored`);",
];

const POSTGRESQL = [
  'create table "photo_blobs" ("key" varchar(200) not null, "content_type" varchar(100) not null, "data" bytea not null, "created_at" timestamptz not null, constraint "photo_blobs_pkey" primary key ("key"));',
  'alter table "proof_photos" add column "stored" boolean not null default false, add column "has_copies" boolean not null default false, add column "width" int null, add column "height" int null, add column "taken_at" timestamptz null, add column "latitude" double precision null, add column "longitude" double precision null;',
  'alter table "proof_photos" alter column "data" drop not null;',
  'create index "proof_photos_stored_index" on "proof_photos" ("stored");',
];

export class Migration20261202040000PhotoStore extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
