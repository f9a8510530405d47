/**
 * task_events with a new check constraint. SQLite cannot change a check
 * constraint, so the table is rebuilt under its own name with every row
 * (under its id: task_messages points at them, checked at commit), column
 * and index kept; PostgreSQL replaces the constraint. Each migration that
 * uses it names every allowed value itself, so what it builds never changes
 * after it has run (test/server/migrations.test.ts compares the result with
 * the entities' schema).
 */
export interface TaskEventValues {
  statuses: string;
  actors: string;
  kinds: string;
  /** The name the old rows wait under while SQLite rebuilds the table. */
  aside: string;
}

const EVENT_COLUMNS = "`id`, `task_id`, `from_status`, `to_status`, `actor_type`, `actor_id`, `reason`, `created_at`, `kind`";

export function taskEventKindsChange({ statuses, actors, kinds, aside }: TaskEventValues): { sqlite: string[]; postgresql: string[] } {
  return {
    sqlite: [
      "pragma defer_foreign_keys = on;",
      `create table \`${aside}\` as select * from \`task_events\`;`,
      "drop table `task_events`;",
      `create table \`task_events\` (\`id\` integer not null primary key autoincrement, \`task_id\` text not null, \`from_status\` text check (\`from_status\` in (${statuses})) null, \`to_status\` text check (\`to_status\` in (${statuses})) not null, \`actor_type\` text check (\`actor_type\` in (${actors})) not null, \`actor_id\` text null, \`reason\` text null, \`created_at\` datetime not null, \`kind\` text check (\`kind\` in (${kinds})) not null default 'STATUS_CHANGED', constraint \`task_events_task_id_foreign\` foreign key(\`task_id\`) references \`tasks\`(\`id\`) on update cascade);`,
      `insert into \`task_events\` (${EVENT_COLUMNS}) select ${EVENT_COLUMNS} from \`${aside}\` order by \`id\`;`,
      `drop table \`${aside}\`;`,
      "create index `task_events_task_id_index` on `task_events` (`task_id`);",
      "create index `task_events_task_id_id_index` on `task_events` (`task_id`, `id`);",
      "create index `task_events_actor_id_to_status_index` on `task_events` (`actor_id`, `to_status`);",
    ],
    postgresql: [
      'alter table "task_events" drop constraint if exists "task_events_kind_check";',
      `alter table "task_events" add constraint "task_events_kind_check" check("kind" in (${kinds}));`,
    ],
  };
}
