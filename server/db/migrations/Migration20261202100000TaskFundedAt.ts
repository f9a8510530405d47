import { DialectMigration } from "./dialect-migration";

/**
 * When a task's escrow was funded on chain, on the task itself, so the feed
 * of tasks operators may take reads one table. Tasks whose escrow is funded
 * today take the time of their ESCROW_FUNDED event, or the escrow's last
 * change where that event is missing.
 */
const BACKFILL = (q: string) =>
  `update ${q}tasks${q} set ${q}funded_at${q} = coalesce(` +
  `(select max(ev.${q}created_at${q}) from ${q}task_events${q} ev where ev.${q}task_id${q} = ${q}tasks${q}.${q}id${q} and ev.${q}kind${q} = 'ESCROW_FUNDED'), ` +
  `(select e.${q}updated_at${q} from ${q}escrows${q} e where e.${q}task_id${q} = ${q}tasks${q}.${q}id${q})) ` +
  `where exists (select 1 from ${q}escrows${q} e where e.${q}task_id${q} = ${q}tasks${q}.${q}id${q} and e.${q}status${q} = 'FUNDED');`;

const SQLITE = [
  "alter table `tasks` add column `funded_at` datetime null;",
  "create index `tasks_status_funded_at_index` on `tasks` (`status`, `funded_at`);",
  BACKFILL("`"),
];

const POSTGRESQL = [
  'alter table "tasks" add column "funded_at" timestamptz null;',
  'create index "tasks_status_funded_at_index" on "tasks" ("status", "funded_at");',
  BACKFILL('"'),
];

export class Migration20261202100000TaskFundedAt extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
