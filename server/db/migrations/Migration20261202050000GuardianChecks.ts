import { DialectMigration } from "./dialect-migration";

/**
 * The Guardian's checks: each verification keeps the list of checks its score
 * follows from (`checks`, JSON; '[]' for verifications from before), and each
 * proof photo its perceptual hash (dHash, 16 hex digits) with the hash's four
 * 16-bit bands, each indexed, so the reuse check finds earlier near-duplicates
 * by equality on a band instead of reading every photo. Photos stored before
 * have no hash and are not compared. tasks.test_scenario takes FRAUD: SQLite
 * keeps enum checks in the table's definition, so tasks is rebuilt there,
 * inside the migration's transaction (where foreign keys cannot be switched
 * off): the rows are copied aside, the table dropped and created anew under
 * its own name (a rename would repoint the other tables' foreign keys), and
 * the rows put back; foreign keys are checked at commit (defer_foreign_keys).
 * Dropping tasks nulls the task_id of the tables whose foreign key says
 * "on delete set null", so those are saved first and restored.
 */
const SET_NULL_CHILDREN = ["ledger_entries", "chain_txs", "escrow_discrepancies", "webhook_deliveries"];
const TASK_COLUMNS = "`id`, `created_at`, `updated_at`, `agent_id`, `mode`, `status`, `title`, `description`, `task_type`, `lat`, `lng`, `address`, `reward_units`, `fee_units`, `deadline`, `proof_requirements`, `operator_id`, `attempts`, `max_attempts`, `test_scenario`, `idempotency_key`, `request_hash`, `version`";
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
  "pragma defer_foreign_keys = on;",
  "create table `tasks__before_fraud` as select * from `tasks`;",
  ...SET_NULL_CHILDREN.map((table) => `create table \`${table}__task_ids\` as select \`id\`, \`task_id\` from \`${table}\` where \`task_id\` is not null;`),
  "drop table `tasks`;",
  "create table `tasks` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `agent_id` text not null, `mode` text check (`mode` in ('TEST', 'LIVE')) not null, `status` text check (`status` in ('POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED')) not null, `title` text not null, `description` text not null, `task_type` text check (`task_type` in ('PHOTO', 'DELIVERY', 'INSPECTION', 'VERIFICATION', 'CUSTOM')) not null, `lat` double not null, `lng` double not null, `address` text null, `reward_units` bigint not null, `fee_units` bigint not null, `deadline` datetime not null, `proof_requirements` json not null, `operator_id` text null, `attempts` integer not null, `max_attempts` integer not null, `test_scenario` text check (`test_scenario` in ('APPROVE', 'REVIEW', 'REJECT', 'FRAUD', 'EXPIRE', 'MANUAL')) null, `idempotency_key` text null, `request_hash` text null, `version` integer not null default 1, constraint `tasks_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, constraint `tasks_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on delete set null on update cascade, primary key (`id`));",
  `insert into \`tasks\` (${TASK_COLUMNS}) select ${TASK_COLUMNS} from \`tasks__before_fraud\`;`,
  ...SET_NULL_CHILDREN.flatMap((table) => [
    `update \`${table}\` set \`task_id\` = (select k.\`task_id\` from \`${table}__task_ids\` k where k.\`id\` = \`${table}\`.\`id\`) where \`id\` in (select \`id\` from \`${table}__task_ids\`);`,
    `drop table \`${table}__task_ids\`;`,
  ]),
  "drop table `tasks__before_fraud`;",
  "create index `tasks_agent_id_index` on `tasks` (`agent_id`);",
  "create index `tasks_operator_id_index` on `tasks` (`operator_id`);",
  "create index `tasks_operator_id_created_at_index` on `tasks` (`operator_id`, `created_at`);",
  "create index `tasks_agent_id_created_at_index` on `tasks` (`agent_id`, `created_at`);",
  "create index `tasks_status_lat_lng_index` on `tasks` (`status`, `lat`, `lng`);",
  "create unique index `tasks_agent_id_idempotency_key_unique` on `tasks` (`agent_id`, `idempotency_key`);",
];

const POSTGRESQL = [
  'alter table "proof_photos" add column "dhash" varchar(16) null, add column "dhash_band0" int null, add column "dhash_band1" int null, add column "dhash_band2" int null, add column "dhash_band3" int null;',
  'create index "proof_photos_dhash_band0_index" on "proof_photos" ("dhash_band0");',
  'create index "proof_photos_dhash_band1_index" on "proof_photos" ("dhash_band1");',
  'create index "proof_photos_dhash_band2_index" on "proof_photos" ("dhash_band2");',
  'create index "proof_photos_dhash_band3_index" on "proof_photos" ("dhash_band3");',
  "alter table \"verifications\" add column \"checks\" jsonb not null default '[]';",
  'alter table "tasks" drop constraint if exists "tasks_test_scenario_check";',
  `alter table "tasks" add constraint "tasks_test_scenario_check" check("test_scenario" in ('APPROVE', 'REVIEW', 'REJECT', 'FRAUD', 'EXPIRE', 'MANUAL'));`,
];

export class Migration20261202050000GuardianChecks extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
