import { Migration } from "@mikro-orm/migrations";
import { dialectOf } from "../dialect";

/**
 * Review windows and disputes. A task may hold its release after VERIFIED
 * (`review_window_minutes`, and `release_held_until` while it holds); the
 * agent's dispute makes it DISPUTED, and the platform's admins (`admins`,
 * keys stored as HMACs) decide it (`disputes`), each act in
 * `admin_audit_log`. Task statuses take DISPUTED and event actors ADMIN.
 *
 * PostgreSQL replaces the check constraints. SQLite keeps enum checks in the
 * table's definition, so tasks and task_events are rebuilt as
 * Migration20261202050000GuardianChecks rebuilt tasks, but from the table's
 * definition as it stands when this runs (read from sqlite_master, the two
 * checks widened), so columns added by migrations before this one are kept:
 * the rows are copied aside, the table dropped and created anew under its
 * own name, the rows and indexes put back; foreign keys are checked at
 * commit. Tables whose foreign key on the rebuilt table nulls or deletes on
 * delete are saved first and restored.
 */
const SQLITE_TABLES = [
  "create table `admins` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `name` text not null, `key_hash` text not null, `key_prefix` text not null, `revoked_at` datetime null, primary key (`id`));",
  "create unique index `admins_name_unique` on `admins` (`name`);",
  "create unique index `admins_key_hash_unique` on `admins` (`key_hash`);",
  "create table `admin_audit_log` (`id` integer not null primary key autoincrement, `admin_id` text null, `action` text not null, `task_id` text null, `detail` text not null, `created_at` datetime not null, constraint `admin_audit_log_admin_id_foreign` foreign key(`admin_id`) references `admins`(`id`) on delete set null on update cascade);",
  "create index `admin_audit_log_admin_id_index` on `admin_audit_log` (`admin_id`);",
  "create index `admin_audit_log_task_id_index` on `admin_audit_log` (`task_id`);",
  "create index `admin_audit_log_created_at_index` on `admin_audit_log` (`created_at`);",
  "create table `disputes` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `task_id` text not null, `reason` text not null, `status` text check (`status` in ('OPEN', 'DECIDED')) not null, `decision` text check (`decision` in ('RELEASE', 'REFUND')) null, `decision_note` text null, `decided_by_id` text null, `decided_at` datetime null, constraint `disputes_task_id_foreign` foreign key(`task_id`) references `tasks`(`id`) on update cascade, constraint `disputes_decided_by_id_foreign` foreign key(`decided_by_id`) references `admins`(`id`) on delete set null on update cascade, primary key (`id`));",
  "create index `disputes_task_id_index` on `disputes` (`task_id`);",
  "create index `disputes_decided_by_id_index` on `disputes` (`decided_by_id`);",
  "create index `disputes_status_created_at_index` on `disputes` (`status`, `created_at`);",
  "create unique index `disputes_task_id_unique` on `disputes` (`task_id`);",
];

const SQLITE_COLUMNS = [
  "alter table `tasks` add column `review_window_minutes` integer null;",
  "alter table `tasks` add column `release_held_until` datetime null;",
];

const STATUSES = "'POSTED', 'ACCEPTED', 'SUBMITTED', 'MANUAL_REVIEW', 'REJECTED', 'VERIFIED', 'PAID', 'CANCELLED', 'EXPIRED'";
const ACTORS = "'AGENT', 'OPERATOR', 'GUARDIAN', 'SYSTEM'";
const widen = (list: string, value: string) => [`in (${list}))`, `in (${list}, '${value}'))`] as const;

/** Per rebuilt table: the checks it widens, as text replacements of its definition. */
const SQLITE_REBUILDS: Record<string, ReadonlyArray<readonly [string, string]>> = {
  tasks: [widen(STATUSES, "DISPUTED")],
  task_events: [widen(STATUSES, "DISPUTED"), widen(ACTORS, "ADMIN")],
};

const POSTGRESQL = [
  'create table "admins" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "name" varchar(100) not null, "key_hash" varchar(64) not null, "key_prefix" varchar(24) not null, "revoked_at" timestamptz null, constraint "admins_pkey" primary key ("id"));',
  'alter table "admins" add constraint "admins_name_unique" unique ("name");',
  'alter table "admins" add constraint "admins_key_hash_unique" unique ("key_hash");',
  'create table "admin_audit_log" ("id" bigserial primary key, "admin_id" uuid null, "action" varchar(40) not null, "task_id" uuid null, "detail" text not null, "created_at" timestamptz not null);',
  'create index "admin_audit_log_task_id_index" on "admin_audit_log" ("task_id");',
  'create index "admin_audit_log_created_at_index" on "admin_audit_log" ("created_at");',
  `create table "disputes" ("id" uuid not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "task_id" uuid not null, "reason" varchar(1000) not null, "status" text check ("status" in ('OPEN', 'DECIDED')) not null, "decision" text check ("decision" in ('RELEASE', 'REFUND')) null, "decision_note" varchar(1000) null, "decided_by_id" uuid null, "decided_at" timestamptz null, constraint "disputes_pkey" primary key ("id"));`,
  'create index "disputes_status_created_at_index" on "disputes" ("status", "created_at");',
  'alter table "disputes" add constraint "disputes_task_id_unique" unique ("task_id");',
  'alter table "admin_audit_log" add constraint "admin_audit_log_admin_id_foreign" foreign key ("admin_id") references "admins" ("id") on update cascade on delete set null;',
  'alter table "disputes" add constraint "disputes_task_id_foreign" foreign key ("task_id") references "tasks" ("id") on update cascade;',
  'alter table "disputes" add constraint "disputes_decided_by_id_foreign" foreign key ("decided_by_id") references "admins" ("id") on update cascade on delete set null;',
  'alter table "tasks" add column "review_window_minutes" int null, add column "release_held_until" timestamptz null;',
  'alter table "tasks" drop constraint if exists "tasks_status_check";',
  `alter table "tasks" add constraint "tasks_status_check" check("status" in (${STATUSES}, 'DISPUTED'));`,
  'alter table "task_events" drop constraint if exists "task_events_from_status_check";',
  'alter table "task_events" drop constraint if exists "task_events_to_status_check";',
  'alter table "task_events" drop constraint if exists "task_events_actor_type_check";',
  `alter table "task_events" add constraint "task_events_from_status_check" check("from_status" in (${STATUSES}, 'DISPUTED'));`,
  `alter table "task_events" add constraint "task_events_to_status_check" check("to_status" in (${STATUSES}, 'DISPUTED'));`,
  `alter table "task_events" add constraint "task_events_actor_type_check" check("actor_type" in (${ACTORS}, 'ADMIN'));`,
];

export class Migration20261203040000Disputes extends Migration {
  override async up(): Promise<void> {
    if (dialectOf(this.driver.getPlatform()) === "postgresql") {
      for (const sql of POSTGRESQL) this.addSql(sql);
      return;
    }
    for (const sql of SQLITE_TABLES) this.addSql(sql);
    this.addSql("pragma defer_foreign_keys = on;");
    for (const [table, replacements] of Object.entries(SQLITE_REBUILDS)) {
      for (const sql of await this.rebuildSqlite(table, replacements)) this.addSql(sql);
    }
    for (const sql of SQLITE_COLUMNS) this.addSql(sql);
  }

  /** The statements that rebuild `table` with its definition changed by `replacements`, keeping its rows, its indexes and the rows that refer to it. */
  private async rebuildSqlite(table: string, replacements: ReadonlyArray<readonly [string, string]>): Promise<string[]> {
    const q = (name: string) => `\`${name}\``;
    const [definition] = await this.execute(`select sql from sqlite_master where type = 'table' and name = '${table}'`);
    let sql = String(definition.sql);
    for (const [from, to] of replacements) {
      if (!sql.includes(from)) throw new Error(`${table}'s definition has no ${from} to widen`);
      sql = sql.split(from).join(to);
    }
    const columns = (await this.execute(`pragma table_info(${q(table)})`)).map((column) => q(String(column.name))).join(", ");
    const indexes = (await this.execute(`select sql from sqlite_master where type = 'index' and tbl_name = '${table}' and sql is not null`)).map((index) => `${String(index.sql)};`);
    // Dropping the table runs its children's "on delete" actions: those that null or delete rows are saved and restored.
    const children: Array<{ child: string; column: string; action: string }> = [];
    for (const { name } of await this.execute(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`)) {
      for (const fk of await this.execute(`pragma foreign_key_list(${q(String(name))})`)) {
        const action = String(fk.on_delete).toUpperCase();
        if (fk.table === table && name !== table && (action === "SET NULL" || action === "CASCADE")) children.push({ child: String(name), column: String(fk.from), action });
      }
    }
    const saved = (child: string) => q(`${child}__during_disputes`);
    return [
      `create table ${q(`${table}__before_disputes`)} as select * from ${q(table)};`,
      ...children.map(({ child, column, action }) =>
        action === "CASCADE" ? `create table ${saved(child)} as select * from ${q(child)};` : `create table ${saved(child)} as select rowid as r, ${q(column)} as v from ${q(child)} where ${q(column)} is not null;`,
      ),
      `drop table ${q(table)};`,
      `${sql};`,
      `insert into ${q(table)} (${columns}) select ${columns} from ${q(`${table}__before_disputes`)};`,
      ...children.flatMap(({ child, column, action }) => [
        action === "CASCADE"
          ? `insert into ${q(child)} select * from ${saved(child)};`
          : `update ${q(child)} set ${q(column)} = (select s.v from ${saved(child)} s where s.r = ${q(child)}.rowid) where rowid in (select r from ${saved(child)});`,
        `drop table ${saved(child)};`,
      ]),
      `drop table ${q(`${table}__before_disputes`)};`,
      ...indexes,
    ];
  }
}
