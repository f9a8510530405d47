import { LockMode, type Platform } from "@mikro-orm/core";
import { PostgreSqlPlatform } from "@mikro-orm/postgresql";

export type Dialect = "sqlite" | "postgresql";

export function dialectOf(platform: Platform): Dialect {
  return platform instanceof PostgreSqlPlatform ? "postgresql" : "sqlite";
}

/** Read options for a row the transaction will change: SQLite serialises writers itself; PostgreSQL takes a row lock. */
export function lockForUpdate(em: { getPlatform(): Platform }): { lockMode?: LockMode } {
  return dialectOf(em.getPlatform()) === "postgresql" ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {};
}
