import { DialectMigration } from "./dialect-migration";

/**
 * Reputation: each side's 1-5 rating of the other after a task (one per
 * side per task), a task's minimum operator record (minCompletedTasks,
 * minRating; null for none, as for every task posted before), and an index
 * on the events' actor so an operator's acceptances are found without a
 * scan of the whole audit log.
 */
const SQLITE = [
  "create table `ratings` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `rated_by` text check (`rated_by` in ('AGENT', 'OPERATOR')) not null, `agent_id` text not null, `operator_id` text not null, `score` integer not null, `comment` text null, constraint `ratings_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, constraint `ratings_agent_id_foreign` foreign key(`agent_id`) references `agents`(`id`) on update cascade, constraint `ratings_operator_id_foreign` foreign key(`operator_id`) references `operators`(`id`) on update cascade, primary key (`id`));",
  "create index `ratings_task_id_index` on `ratings` (`task_id`);",
  "create index `ratings_agent_id_index` on `ratings` (`agent_id`);",
  "create index `ratings_operator_id_index` on `ratings` (`operator_id`);",
  "create unique index `ratings_task_id_rated_by_unique` on `ratings` (`task_id`, `rated_by`);",
  "create index `ratings_operator_id_rated_by_index` on `ratings` (`operator_id`, `rated_by`);",
  "create index `ratings_agent_id_rated_by_index` on `ratings` (`agent_id`, `rated_by`);",
  "alter table `tasks` add column `min_completed_tasks` integer null;",
  "alter table `tasks` add column `min_rating` double null;",
  "create index `task_events_actor_id_to_status_index` on `task_events` (`actor_id`, `to_status`);",
];

const POSTGRESQL = [
  'create table "ratings" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "task_id" uuid not null, "rated_by" text check ("rated_by" in (\'AGENT\', \'OPERATOR\')) not null, "agent_id" uuid not null, "operator_id" uuid not null, "score" int not null, "comment" varchar(1000) null, constraint "ratings_pkey" primary key ("id"));',
  'alter table "ratings" add constraint "ratings_task_id_rated_by_unique" unique ("task_id", "rated_by");',
  'create index "ratings_operator_id_rated_by_index" on "ratings" ("operator_id", "rated_by");',
  'create index "ratings_agent_id_rated_by_index" on "ratings" ("agent_id", "rated_by");',
  'alter table "ratings" add constraint "ratings_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade;',
  'alter table "ratings" add constraint "ratings_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade;',
  'alter table "ratings" add constraint "ratings_operator_id_foreign" foreign key ("operator_id") references "operators" ("id") on update cascade;',
  'alter table "tasks" add column "min_completed_tasks" int null;',
  'alter table "tasks" add column "min_rating" double precision null;',
  'create index "task_events_actor_id_to_status_index" on "task_events" ("actor_id", "to_status");',
];

export class Migration20261203010000Reputation extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
