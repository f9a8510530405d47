import { tablePruner, type Pruner } from "../jobs/retention";

/** Idempotency records that expired more than `ageMs` ago (a retry after expiry runs as a new request anyway). */
export function expiredIdempotencyRecords(ageMs: number): Pruner {
  return tablePruner("idempotency_keys", "expires_at < ?", (now) => [now - ageMs]);
}
