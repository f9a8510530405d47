import "reflect-metadata";
import { loadConfig, ConfigError } from "./config";
import { createApp } from "./app";

async function main(): Promise<void> {
  let humanops;
  try {
    // A setting at odds with the database (another chain bound to it) is a configuration error too.
    humanops = await createApp(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  await humanops.listen();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    humanops.log.info({ signal }, "shutting down");
    humanops
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        humanops.log.error({ err }, "shutdown failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
