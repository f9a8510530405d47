import type { Clock } from "../../server/common/clock";

/**
 * A clock a test moves forward instead of waiting. Passed to a server
 * (startServer's `clock`), it decides when that server's deadlines pass,
 * sessions idle out and caches age, while its timers and polls keep real time.
 * It runs with the system clock, `advance(ms)` ahead of it, until `freeze()`
 * stops it: from then on it stands still until advanced, so what it decides
 * does not depend on how fast the machine runs the test.
 */
export class TestClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Stops the clock where it is: it moves only when advanced. */
  freeze(): void {
    this.frozenAt = this.now();
  }

  /** Moves the clock `ms` forward, as if that much time had passed. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock moves forward only (advance(${ms}))`);
    if (this.frozenAt === undefined) this.offsetMs += ms;
    else this.frozenAt += ms;
  }

  /** Moves the clock forward to `at` (ms since the epoch); a time already past leaves it as it is. */
  advanceTo(at: number): void {
    this.advance(Math.max(0, at - this.now()));
  }
}
