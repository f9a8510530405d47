import { loadConfig, type Config, type DatabaseConfig } from "../../server/config";
import { createApp, type HumanOps } from "../../server/app";
import { createLogger, type Logger } from "../../server/common/logger";
import type { Clock } from "../../server/common/clock";
import type { TestDatabase } from "./databases";
import { GraphQLClient } from "./graphql-client";

export interface TestServer {
  url: string;
  app: HumanOps;
  config: Config;
  client: GraphQLClient;
  stop(): Promise<void>;
}

/** Settings that make test mode finish in milliseconds and keep logs quiet. */
export const FAST_ENV: Record<string, string> = {
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "silent",
  // Photos in the test database, which each test drops, rather than files under ./data/photos.
  PHOTO_STORE: "database",
  TEST_MODE_STEP_MS: "0",
  WORKER_POLL_MS: "20",
  // Photos decoded in the test's process: the decoder process (the default) would start a child per test server, compiled
  // by ts-node, that yields to every other busy program; test/photos/decoder-process.test.ts shows it answers the same.
  GUARDIAN_DECODE_PROCESS: "false",
  // Rate limits high enough that only the rate-limit suites meet them.
  RATE_LIMIT_TEST_PER_MINUTE: "100000",
  RATE_LIMIT_LIVE_PER_MINUTE: "100000",
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000",
  RATE_LIMIT_REGISTRATIONS_PER_HOUR: "100000",
};

/** Starts a real HumanOps on a free port, on a fresh database of the given kind. */
export async function startServer(
  db: TestDatabase | { database: DatabaseConfig },
  env: Record<string, string> = {},
  log?: Logger,
  options: { clock?: Clock } = {},
): Promise<TestServer> {
  const created = "create" in db ? await db.create() : { database: db.database, drop: async () => undefined };
  const config = { ...loadConfig({ ...FAST_ENV, ...env }), database: created.database };
  const app = await createApp(config, { log: log ?? createLogger(config.logLevel), clock: options.clock });
  const url = await app.listen();
  return {
    url,
    app,
    config,
    client: new GraphQLClient(`${url}/graphql`),
    async stop() {
      await app.stop();
      await created.drop();
    },
  };
}
