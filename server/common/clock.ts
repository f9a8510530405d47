/**
 * Where a service reads the time when it judges a deadline, an expiry or a
 * cache's age: the system clock in production. Tests pass a clock they move
 * forward, so a session's idle timeout or a task's deadline comes without the
 * test waiting for it. Work queues (ClaimLoop: webhook retries and their
 * window, and a job worker's due times where one is given a clock) judge
 * what is due by one too; their timers still wait real time, and wait again
 * when the clock has not reached the work.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
