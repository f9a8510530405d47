import { BigIntType, Entity, Enum, Index, JsonType, PrimaryKey, Property, Unique } from "@mikro-orm/core";

export enum JobStatus {
  PENDING = "PENDING",
  DONE = "DONE",
  FAILED = "FAILED",
}

/**
 * A durable unit of background work. Times are epoch milliseconds in integer
 * columns so the claim query is the same SQL on SQLite and PostgreSQL.
 */
@Entity({ tableName: "jobs" })
@Index({ properties: ["status", "runAt"] })
export class Job {
  @PrimaryKey({ type: "bigint", autoincrement: true })
  id!: string;

  @Property({ type: "string", length: 64 })
  kind: string;

  @Property({ type: JsonType })
  payload: Record<string, unknown>;

  @Enum({ items: () => JobStatus, default: JobStatus.PENDING })
  status: JobStatus = JobStatus.PENDING;

  @Property({ type: new BigIntType("number") })
  runAt: number;

  @Property({ type: "integer", default: 0 })
  attempts: number = 0;

  @Property({ type: "integer" })
  maxAttempts: number;

  @Property({ type: new BigIntType("number"), nullable: true })
  lockedUntil?: number;

  @Property({ type: "text", nullable: true })
  lastError?: string;

  /** At most one pending-or-done job per key: enqueueing twice is harmless. */
  @Unique()
  @Property({ type: "string", length: 200, nullable: true })
  dedupeKey?: string;

  @Property({ type: new BigIntType("number") })
  createdAt: number = Date.now();

  constructor(kind: string, payload: Record<string, unknown>, runAt: number, maxAttempts: number, dedupeKey?: string) {
    this.kind = kind;
    this.payload = payload;
    this.runAt = runAt;
    this.maxAttempts = maxAttempts;
    this.dedupeKey = dedupeKey;
  }
}
