import { DialectMigration } from "./dialect-migration";

/** The chain each mode of the deployment settles on, and the heartbeat of the processes settling there (server/chain/chain-binding.ts). */
const SQLITE = ["create table `chain_bindings` (`mode` text not null, `chain_key` text not null, `chain_id` integer not null, `task_escrow` text not null, `owner` text null, `beat_at` bigint not null, primary key (`mode`));"];

const POSTGRESQL = ['create table "chain_bindings" ("mode" varchar(8) not null, "chain_key" varchar(80) not null, "chain_id" int not null, "task_escrow" varchar(42) not null, "owner" varchar(300) null, "beat_at" bigint not null, constraint "chain_bindings_pkey" primary key ("mode"));'];

export class Migration20261202030000ChainBindings extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
