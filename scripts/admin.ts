/**
 * Platform administrators: the people who decide disputes. Run against the
 * server's own database and pepper (the same DATABASE_URL and API_KEY_PEPPER
 * as the server):
 *
 *   npm run admin -- create <name>   # prints the new admin key (ho_admin_...) once
 *   npm run admin -- revoke <name>   # the key stops working at once
 *
 * Both acts are written to the admin audit log.
 */
import "reflect-metadata";
import { loadConfig } from "../server/config";
import { initORM } from "../server/db/orm";
import { ApiKeyService } from "../server/agents/api-key.service";
import { AdminService } from "../server/admin/admin.service";
import { DomainError } from "../server/common/errors";

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  if ((command !== "create" && command !== "revoke") || !name) {
    process.stderr.write("usage: npm run admin -- create <name> | revoke <name>\n");
    process.exitCode = 64;
    return;
  }
  const config = loadConfig(process.env);
  const orm = await initORM(config.database);
  try {
    const admins = new AdminService(new ApiKeyService(config.apiKeyPepper));
    if (command === "create") {
      const { key } = await admins.create(orm.em.fork(), name);
      process.stdout.write(`admin ${name} created; its key (shown once, keep it secret):\n${key}\n`);
    } else {
      await admins.revoke(orm.em.fork(), name);
      process.stdout.write(`admin ${name}'s key revoked\n`);
    }
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await orm.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
