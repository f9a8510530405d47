import { DialectMigration } from "./dialect-migration";

/** Operators' Sumsub applicants and their latest review (server/kyc/kyc-applicant.entity.ts); statements from `npm run migration:sql`. */
const SQLITE = [
  "create table `kyc_applicants` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `operator_id` text not null, `applicant_id` text not null, `level_name` text not null, `review_status` text null, `review_answer` text null, `reject_type` text null, `reason` text null, `last_event_type` text null, `last_event_at_ms` bigint null, constraint `kyc_applicants_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on update cascade, primary key (`id`));",
  "create unique index `kyc_applicants_operator_id_unique` on `kyc_applicants` (`operator_id`);",
  "create unique index `kyc_applicants_applicant_id_unique` on `kyc_applicants` (`applicant_id`);",
];

const POSTGRESQL = [
  "create table \"kyc_applicants\" (\"id\" uuid not null, \"created_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"operator_id\" uuid not null, \"applicant_id\" varchar(64) not null, \"level_name\" varchar(200) not null, \"review_status\" varchar(40) null, \"review_answer\" varchar(10) null, \"reject_type\" varchar(10) null, \"reason\" text null, \"last_event_type\" varchar(64) null, \"last_event_at_ms\" bigint null, constraint \"kyc_applicants_pkey\" primary key (\"id\"));",
  "alter table \"kyc_applicants\" add constraint \"kyc_applicants_operator_id_unique\" unique (\"operator_id\");",
  "alter table \"kyc_applicants\" add constraint \"kyc_applicants_applicant_id_unique\" unique (\"applicant_id\");",
  "alter table \"kyc_applicants\" add constraint \"kyc_applicants_operator_id_foreign\" foreign key (\"operator_id\") references \"operators\" (\"id\") on update cascade;",
];

export class Migration20261130010000KycApplicants extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
