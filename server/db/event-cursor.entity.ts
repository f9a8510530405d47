import { Entity, PrimaryKey, Property } from "@mikro-orm/core";

/**
 * How far a durable consumer of the task event log has got: every event
 * with an id up to `position` has been handled. The webhook dispatcher
 * advances its row in the same transaction as the deliveries it writes.
 */
@Entity({ tableName: "event_cursors" })
export class EventCursor {
  @PrimaryKey({ type: "string", length: 64 })
  name: string;

  @Property({ type: "bigint" })
  position: string;

  @Property({ type: "Date", onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  constructor(name: string, position: string) {
    this.name = name;
    this.position = position;
  }
}
