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

/**
 * The outermost transaction of a transaction context: a savepoint (a
 * transaction nested in another) names its parent under a symbol MikroORM
 * keeps to itself; commit hooks key on what commits, the outermost one.
 */
export function rootTransaction(ctx: unknown): object | undefined {
  if (!ctx || (typeof ctx !== "object" && typeof ctx !== "function")) return undefined;
  let current = ctx as Record<symbol, unknown>;
  for (;;) {
    const parent = Object.getOwnPropertySymbols(current).find((symbol) => symbol.description === "parentTransaction");
    if (!parent || !current[parent]) return current;
    current = current[parent] as Record<symbol, unknown>;
  }
}
