import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { GraphQLClient } from "../support/graphql-client";
import { POST_TASK, registerAgent, taskInput, waitForStatus } from "../support/fixtures";
import { spawnServer, type ChildServer } from "../live/support/child-server";
import { initORM } from "../../server/db/orm";
import { ChainBinding } from "../../server/chain/chain-binding.entity";
import { Mode } from "../../server/common/mode";
import { sharedDatabase, type SharedDatabase } from "./support/chain";

for (const db of testDatabases()) {
  describe(`one chain per database: processes without a shared chain (${db.name}, server processes)`, function () {
    this.timeout(180_000);
    let database: SharedDatabase;
    const servers: ChildServer[] = [];

    before(async () => {
      database = await sharedDatabase(db);
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.kill()));
      await database.drop();
    });

    it("a second process that would run its own chain refuses to start, naming TEST_CHAIN_RPC_URL; after the first is killed, a new one takes the database over", async () => {
      const env = { DATABASE_URL: database.url };
      const first = await spawnServer(env);
      servers.push(first);
      const client = new GraphQLClient(`${first.url}/graphql`);
      const agent = await registerAgent(client, "bound");
      const { postTask } = await client.ok(POST_TASK, { input: taskInput() }, agent.apiKey);
      await waitForStatus(client, agent.apiKey, postTask.id, ["PAID"]);

      const refused = await spawnServer(env).then(
        (server) => {
          servers.push(server);
          return undefined;
        },
        (err: Error) => err.message,
      );
      expect(refused, "the second process started beside the first").to.be.a("string");
      expect(refused).to.match(/server exited \(78\) before listening/);
      expect(refused, refused).to.match(/TEST_CHAIN_RPC_URL: is unset, so this process would settle test mode on a chain of its own, but this database's test mode settles on the chain running inside another live HumanOps process/);
      expect(refused).to.match(/set TEST_CHAIN_RPC_URL on every one of them/);

      const orm = await initORM(database.config, { migrate: false });
      try {
        const bound = await orm.em.fork().findOneOrFail(ChainBinding, { mode: Mode.TEST });
        expect(bound.owner, "the database names the process whose chain it settles on").to.match(new RegExp(` pid ${first.child.pid}( \\(boot [0-9a-f-]+, pid namespace \\d+\\))?$`));
        expect(bound.chainId).to.equal(31337);
        expect(bound.chainKey).to.equal(`31337:${bound.taskEscrow.toLowerCase()}`);

        // A crash leaves the binding behind; the process started after it sees that the owner's process is gone (it ran
        // here, so its pid says so) and takes over without watching for a heartbeat.
        await first.kill();
        const next = await spawnServer(env);
        servers.push(next);
        const log = next.output.join("\n");
        expect(log).to.include("the process that ran this database's chain is gone");
        expect(log).not.to.include("waiting to see whether a process still settles there");
        const nextClient = new GraphQLClient(`${next.url}/graphql`);
        // A new agent: the first one's test USDC is on the dead chain until the reconciler re-homes it.
        const newcomer = await registerAgent(nextClient, "after-the-crash");
        const { postTask: again } = await nextClient.ok(POST_TASK, { input: taskInput() }, newcomer.apiKey);
        await waitForStatus(nextClient, newcomer.apiKey, again.id, ["PAID"]);
        const rebound = await orm.em.fork().findOneOrFail(ChainBinding, { mode: Mode.TEST });
        expect(rebound.owner).to.match(new RegExp(` pid ${next.child.pid}( \\(boot [0-9a-f-]+, pid namespace \\d+\\))?$`));
        expect(rebound.chainKey).not.to.equal(bound.chainKey);
      } finally {
        await orm.close();
      }
    });
  });
}
