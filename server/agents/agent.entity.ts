import { Entity, Property, Unique } from "@mikro-orm/core";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";

/** An AI agent (or the developer behind it) that posts tasks and pays for them. */
@ObjectType()
@Entity({ tableName: "agents" })
export class Agent extends BaseEntity {
  @Field(() => String)
  @Property({ type: "string", length: 200 })
  name: string;

  @Field(() => String)
  @Unique()
  @Property({ type: "string", length: 320 })
  email: string;

  constructor(name: string, email: string) {
    super();
    this.name = name;
    this.email = email;
  }
}
