import { Entity, Index, ManyToOne, Property, Unique, Enum } from "@mikro-orm/core";
import { BaseEntity } from "../common/base.entity";
import { Mode } from "../common/mode";
import { Agent } from "./agent.entity";
import { Operator } from "../operators/operator.entity";

/**
 * An API key, stored only as a peppered SHA-256 hash. The plaintext is shown
 * once at creation. `prefix` (ho_test_ / ho_live_ plus a few characters) is
 * kept so a key can be recognised in a dashboard without being usable.
 */
@Entity({ tableName: "api_keys" })
@Index({ properties: ["agent"] })
@Index({ properties: ["operator"] })
export class ApiKey extends BaseEntity {
  @Unique()
  @Property({ type: "string", length: 64 })
  hash: string;

  @Property({ type: "string", length: 24 })
  prefix: string;

  @Enum({ items: () => Mode })
  mode: Mode;

  @ManyToOne(() => Agent, { nullable: true })
  agent?: Agent;

  @ManyToOne(() => Operator, { nullable: true })
  operator?: Operator;

  @Property({ type: "Date", nullable: true })
  revokedAt?: Date;

  constructor(hash: string, prefix: string, mode: Mode, owner: { agent: Agent } | { operator: Operator }) {
    super();
    this.hash = hash;
    this.prefix = prefix;
    this.mode = mode;
    if ("agent" in owner) this.agent = owner.agent;
    else this.operator = owner.operator;
  }
}
