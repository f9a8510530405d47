import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestDatabase } from "./databases";
import { spawnServer, type ChildServer } from "../live/support/child-server";
import { ownedChain, sharedDatabase, type OwnedChain, type SharedDatabase } from "../chain/support/chain";

/**
 * What the background photo job tests (test/photos/move.test.ts,
 * rehash.test.ts) share: a test chain, a database the test and the server
 * processes both open, and a photo directory, made before the suite and
 * removed after it; and the kill -9 in the middle of a job, then the
 * restart that has to finish it.
 */
export interface PhotoJobFixture {
  owned: OwnedChain;
  database: SharedDatabase;
  directory: string;
  /** The server process running the job, if one runs. */
  server?: ChildServer;
}

/** Registers the suite's before and after hooks; the fixture's fields are set once `before` ran. */
export function photoJobFixture(db: TestDatabase): PhotoJobFixture {
  const fixture = {} as PhotoJobFixture;
  before(async () => {
    fixture.owned = await ownedChain({ funderOwnsUsdc: true });
    fixture.database = await sharedDatabase(db);
    fixture.directory = await mkdtemp(path.join(os.tmpdir(), "humanops-photos-"));
  });
  after(async () => {
    await fixture.server?.kill();
    await fixture.owned.stop();
    await fixture.database.drop();
    await rm(fixture.directory, { recursive: true, force: true });
  });
  return fixture;
}

async function stopGracefully(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

/**
 * Starts a server with `env`, kills it (SIGKILL) once `done()` counts at
 * least 3 of `total` photos through the job, checks it died part-way, starts
 * another that must bring `done()` to `total` within a minute, and stops
 * that one gracefully.
 */
export async function killMidwayAndResume(fixture: PhotoJobFixture, env: Record<string, string>, done: () => Promise<number>, total: number, what: string): Promise<void> {
  fixture.server = await spawnServer(env);
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    if ((await done()) >= 3) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await fixture.server.kill();
  expect(await done(), `the process died with photos still to be ${what}`).to.be.within(1, total - 1);

  fixture.server = await spawnServer(env);
  for (const until = Date.now() + 60_000; (await done()) < total; ) {
    if (Date.now() > until) throw new Error(`after the restart only ${await done()} of ${total} photos were ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stopGracefully(fixture.server);
  fixture.server = undefined;
}
