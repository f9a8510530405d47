import { DialectMigration } from "./dialect-migration";

/**
 * The accept window: how long an operator may hold an accepted task without
 * proof before it is offered to others again. Tasks posted before it get
 * the default window (120 minutes); a task accepted now has no acceptance
 * time on record, so its reservation does not lapse (the deadline still
 * ends it). Operators count the reservations that lapsed on them.
 */
const SQLITE = [
  "alter table `tasks` add column `accept_window_minutes` integer not null default 120;",
  "alter table `tasks` add column `accepted_at` datetime null;",
  "alter table `operators` add column `reservations_lapsed` integer not null default 0;",
];

const POSTGRESQL = [
  'alter table "tasks" add column "accept_window_minutes" int not null default 120;',
  'alter table "tasks" add column "accepted_at" timestamptz null;',
  'alter table "operators" add column "reservations_lapsed" int not null default 0;',
];

export class Migration20261202170000AcceptWindow extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
