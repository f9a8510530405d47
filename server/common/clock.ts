/**
 * Where a service reads the time when it judges a deadline, an expiry or a
 * cache's age: the system clock in production. Tests pass a clock they move
 * forward, so a session's idle timeout or a task's deadline comes without the
 * test waiting for it. Timers (polls, retries, job run times) keep to the
 * system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
