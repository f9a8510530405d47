import { expect } from "chai";
import { OptimisticLockError } from "@mikro-orm/core";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { POST_TASK, registerAgent, taskInput } from "../support/fixtures";
import { testChain } from "./support/chain";
import { initORM, type Orm } from "../../server/db/orm";
import { createLogger } from "../../server/common/logger";
import { ChainIndexer, type ChainLogHandlers } from "../../server/escrow/indexer";
import { ChainEvent } from "../../server/escrow/chain-tx.entity";
import { EventCursor } from "../../server/db/event-cursor.entity";
import type { Chain } from "../../server/chain/chains";

/**
 * The chain indexer and a writer it races (the outbox settling the same
 * escrow from its receipt): a step whose handling loses a compare-and-set
 * commits nothing and is handled again against the rows as they are now.
 * The indexer here reads the server's chain into a database of its own, so
 * the server's indexer and its cursor are not involved.
 */
for (const db of testDatabases()) {
  describe(`the chain indexer losing a write to another writer (${db.name})`, () => {
    let server: TestServer;
    let chain: Chain;
    let orm: Orm;
    let drop: () => Promise<void>;
    const log = createLogger("silent");

    before(async () => {
      server = await startServer(db);
      chain = testChain(server.app);
      const agent = await registerAgent(server.client, "indexed");
      // postTask answers once the task's escrow is funded on chain: the chain holds a TaskFunded log.
      await server.client.ok(POST_TASK, { input: taskInput({ testScenario: "MANUAL" }) }, agent.apiKey);
    });
    beforeEach(async () => {
      const created = await db.create();
      drop = created.drop;
      orm = await initORM(created.database);
    });
    afterEach(async () => {
      await orm.close();
      await drop();
    });
    after(() => server.stop());

    /** Handlers that record each escrow event they are given and lose a write while `losses` lasts. */
    function losingHandlers(losses: number): ChainLogHandlers & { seen: string[] } {
      const seen: string[] = [];
      return {
        seen,
        async escrowEvent(_em, _chain, event, indexed) {
          seen.push(`${event.name}:${indexed.txHash}:${indexed.logIndex}`);
          if (losses-- > 0) throw OptimisticLockError.lockFailed("Escrow");
        },
        async transferIn() {},
      };
    }

    it("a lost write rolls the step back and the same blocks are handled again at once: each log is recorded once, the cursor reaches the head", async () => {
      const handlers = losingHandlers(2);
      const indexer = new ChainIndexer(orm, chain, handlers, log);
      while (await indexer.step());
      const first = handlers.seen[0];
      expect(first, "the first escrow event").to.match(/^\w+:0x[0-9a-f]{64}:\d+$/);
      expect(handlers.seen.filter((seen) => seen === first), "handled, rolled back twice, handled a third time").to.have.length(3);
      const recorded = await orm.em.fork().find(ChainEvent, { chainKey: chain.key, name: { $ne: "Transfer" } });
      expect(recorded.length, "every escrow event recorded once").to.equal(new Set(handlers.seen).size);
      expect(recorded.some((event) => event.name === "TaskFunded")).to.equal(true);
      const cursor = await orm.em.fork().findOneOrFail(EventCursor, { name: `chain:${chain.key}` });
      expect(Number(cursor.position)).to.equal(await chain.confirmedHead());
    });

    it("a write lost again and again is an error for the caller, and nothing of it is recorded", async () => {
      const handlers = losingHandlers(Number.POSITIVE_INFINITY);
      const indexer = new ChainIndexer(orm, chain, handlers, log);
      let failure: unknown;
      try {
        while (await indexer.step());
      } catch (err) {
        failure = err;
      }
      expect(failure).to.be.instanceOf(OptimisticLockError);
      expect(handlers.seen.length, "the first try and five more").to.equal(6);
      expect(await orm.em.fork().count(ChainEvent, {})).to.equal(0);
      expect(await orm.em.fork().count(EventCursor, { name: `chain:${chain.key}` })).to.equal(0);
    });
  });
}
