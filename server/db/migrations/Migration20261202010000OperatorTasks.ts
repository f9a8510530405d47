import { DialectMigration } from "./dialect-migration";

/** Operators' own task lists (myTasks) by an index, and the count of accepted tasks an operator gave back (releaseTask). */
const SQLITE = [
  "alter table `operators` add column `tasks_released` integer not null default 0;",
  "create index `tasks_operator_id_created_at_index` on `tasks` (`operator_id`, `created_at`);",
];

const POSTGRESQL = [
  'alter table "operators" add column "tasks_released" int not null default 0;',
  'create index "tasks_operator_id_created_at_index" on "tasks" ("operator_id", "created_at");',
];

export class Migration20261202010000OperatorTasks extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
