import { randomUUID } from "node:crypto";
import { PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";

/** Every aggregate has a UUID id and creation/update times. */
@ObjectType()
export abstract class BaseEntity {
  @Field(() => ID)
  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Field(() => Date)
  @Property({ type: "datetime" })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: "datetime", onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
