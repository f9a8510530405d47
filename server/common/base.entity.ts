import { randomUUID } from "node:crypto";
import { PrimaryKey, Property } from "@mikro-orm/core";
import { Field, ID, ObjectType } from "type-graphql";

/**
 * Every aggregate has a UUID id and creation/update times.
 *
 * Times are `type: "Date"`, never `"datetime"`: both make the same column, but MikroORM compares a property typed
 * `"datetime"` with a deep equality, and on SQLite it holds a loaded time as a `Date` and the entity's snapshot as
 * milliseconds, so every flush of a loaded entity rewrote its times and bumped its version. Typed `"Date"`, the two
 * are compared by value (test/server/clean-flush.test.ts).
 */
@ObjectType()
export abstract class BaseEntity {
  @Field(() => ID)
  @PrimaryKey({ type: "uuid" })
  id: string = randomUUID();

  @Field(() => Date)
  @Property({ type: "Date" })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({ type: "Date", onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
