import { randomBytes } from "node:crypto";
import { Entity, PrimaryKey, Property } from "@mikro-orm/core";
import type { Orm } from "./orm";

/**
 * The identity of one HumanOps deployment: a random id made by the first
 * process to start on a database, read by every replica on it. What
 * replicas share outside the database (Redis channels and keys) is
 * namespaced by it, so two deployments on one Redis (staging and
 * production, or two test runs) never hear or count each other.
 */
@Entity({ tableName: "deployment" })
export class Deployment {
  /** Always 1: the table holds one row. */
  @PrimaryKey({ type: "integer", autoincrement: false })
  singleton!: number;

  @Property({ type: "string", length: 32 })
  deploymentId!: string;

  @Property({ type: "Date" })
  createdAt: Date = new Date();
}

/** This database's deployment id, made on first use (replicas starting side by side agree: the first insert wins). */
export async function deploymentIdOf(orm: Orm): Promise<string> {
  const em = orm.em.fork();
  await em
    .getConnection()
    .execute("insert into deployment (singleton, deployment_id, created_at) values (1, ?, ?) on conflict (singleton) do nothing", [randomBytes(12).toString("hex"), new Date()], "run");
  return (await em.findOneOrFail(Deployment, { singleton: 1 })).deploymentId;
}
