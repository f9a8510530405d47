import { Entity, Index, ManyToOne, PrimaryKey, Property, Unique } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";

/**
 * A platform administrator: HumanOps staff who decide disputes. Not an agent
 * or an operator, and not reachable by registering: an admin and its key are
 * made with `npm run admin -- create <name>` (scripts/admin.ts). Only an
 * HMAC of the key is stored, as for API keys.
 */
@ObjectType()
@Entity({ tableName: "admins" })
export class Admin extends BaseEntity {
  @Field(() => String)
  @Unique()
  @Property({ type: "string", length: 100 })
  name: string;

  @Unique()
  @Property({ type: "string", length: 64 })
  keyHash: string;

  /** ho_admin_ and a few characters: recognisable in a list, not usable. */
  @Property({ type: "string", length: 24 })
  keyPrefix: string;

  @Property({ type: "Date", nullable: true })
  revokedAt?: Date | null;

  constructor(name: string, keyHash: string, keyPrefix: string) {
    super();
    this.name = name;
    this.keyHash = keyHash;
    this.keyPrefix = keyPrefix;
  }
}

/**
 * The admin audit log: one row per administrative act (a dispute decided, an
 * admin created or revoked), written in the same transaction as the act.
 * Never updated or deleted.
 */
@ObjectType()
@Entity({ tableName: "admin_audit_log" })
@Index({ properties: ["createdAt"] })
export class AdminAuditEntry {
  @Field(() => ID)
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  /** Null for an act of the command line (creating or revoking an admin). */
  @ManyToOne(() => Admin, { nullable: true })
  admin?: Admin | null;

  @Field(() => String, { description: "DISPUTE_DECIDED, ADMIN_CREATED or ADMIN_REVOKED" })
  @Property({ type: "string", length: 40 })
  action: string;

  @Field(() => String, { nullable: true })
  @Index()
  @Property({ type: "uuid", nullable: true })
  taskId?: string | null;

  @Field(() => String)
  @Property({ type: "text" })
  detail: string;

  @Field(() => Date)
  @Property({ type: "Date" })
  createdAt: Date = new Date();

  constructor(admin: Admin | null, action: string, detail: string, taskId?: string) {
    this.admin = admin;
    this.action = action;
    this.detail = detail;
    this.taskId = taskId ?? null;
  }
}
