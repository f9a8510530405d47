import { DialectMigration } from "./dialect-migration";

/** Which chain deployments running processes vouch for (server/escrow: the in-process test chain dies with its process). */
const SQLITE = ["create table `chain_instances` (`chain_key` text not null, `seen_at` bigint not null, primary key (`chain_key`));"];

const POSTGRESQL = ["create table \"chain_instances\" (\"chain_key\" varchar(80) not null, \"seen_at\" bigint not null, constraint \"chain_instances_pkey\" primary key (\"chain_key\"));"];

export class Migration20261129130100ChainInstances extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
