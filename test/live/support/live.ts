import type { TestServer } from "../../support/server";

/** Polls a condition (test mode moves in milliseconds); fails with `what` after the timeout. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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
