import { DialectMigration } from "./dialect-migration";

/**
 * The capture code issued to the operator on each acceptance (null while a
 * task is open, and for tasks accepted before codes existed), indexed: a new
 * code is checked against the codes of tasks still in progress.
 */
const SQLITE = [
  "alter table `tasks` add column `capture_code` text null;",
  "create index `tasks_capture_code_index` on `tasks` (`capture_code`);",
];

const POSTGRESQL = [
  'alter table "tasks" add column "capture_code" varchar(16) null;',
  'create index "tasks_capture_code_index" on "tasks" ("capture_code");',
];

export class Migration20261202060000CaptureCode extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
