import type { TestServer } from "../../support/server";
import { eventually } from "../../support/until";

export { eventually };

/** Resolves once the server has `count` live subscriptions, so a test acts only after its subscriber listens. */
export function subscribersReach(server: TestServer, count: number): Promise<void> {
  return eventually(() => server.app.services.live.subscriberCount >= count, `${count} subscriber(s)`);
}

/** A pino destination that keeps every line, to check what reached the logs. */
export class LogCapture {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  includes(text: string): boolean {
    return this.lines.some((line) => line.includes(text));
  }
}
