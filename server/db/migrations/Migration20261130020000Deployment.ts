import { DialectMigration } from "./dialect-migration";

/** The deployment's identity (server/db/deployment.entity.ts): it namespaces what replicas share in Redis. */
const SQLITE = ["create table `deployment` (`singleton` integer not null, `deployment_id` text not null, `created_at` datetime not null, primary key (`singleton`));"];

const POSTGRESQL = ['create table "deployment" ("singleton" int not null, "deployment_id" varchar(32) not null, "created_at" timestamptz not null, constraint "deployment_pkey" primary key ("singleton"));'];

export class Migration20261130020000Deployment extends DialectMigration {
  protected readonly statements = { sqlite: SQLITE, postgresql: POSTGRESQL };
}
