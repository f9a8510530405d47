import { tablePruner, type Pruner } from "../jobs/retention";

/**
 * Browser sessions that ended more than `ageMs` ago: past their maximum age,
 * or unused for longer than the idle timeout (`idleMs`). Live sessions stay.
 */
export function endedSessions(ageMs: number, idleMs: number): Pruner {
  return tablePruner("browser_sessions", "expires_at < ? or last_used_at < ?", (now) => [now - ageMs, now - idleMs - ageMs]);
}
