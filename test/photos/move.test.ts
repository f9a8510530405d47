import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { testDatabases } from "../support/databases";
import { startServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { spawnServer, type ChildServer } from "../live/support/child-server";
import { ownedChain, sharedDatabase, type OwnedChain, type SharedDatabase } from "../chain/support/chain";
import { initORM, type Orm } from "../../server/db/orm";
import { generatePhoto } from "../../server/photos/photo.samples";
import { ProofPhoto } from "../../server/proofs/proof.entity";
import { ProofPhotoHash } from "../../server/photos/photo-hash.entity";
import { HASH_VERSION, HASH_WINDOWS } from "../../server/photos/photo.hash";

const TASKS = 3;
const PHOTOS_PER_PROOF = 10;
const TOTAL = TASKS * PHOTOS_PER_PROOF;

async function stopGracefully(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

async function storedCount(orm: Orm): Promise<number> {
  return orm.em.fork().count(ProofPhoto, { stored: true });
}

for (const db of testDatabases()) {
  describe(`moving photos out of database rows into the photo store (${db.name})`, () => {
    let owned: OwnedChain;
    let database: SharedDatabase;
    let directory: string;
    let server: ChildServer | undefined;

    before(async () => {
      owned = await ownedChain({ funderOwnsUsdc: true });
      database = await sharedDatabase(db);
      directory = await mkdtemp(path.join(os.tmpdir(), "humanops-photos-"));
    });
    after(async () => {
      await server?.kill();
      await owned.stop();
      await database.drop();
      await rm(directory, { recursive: true, force: true });
    });

    it("kill -9 in the middle of the move, restart: every photo is in the store, byte for byte, and no row keeps its bytes", async function () {
      this.timeout(180_000);
      // Proof submitted the usual way, then put back the way rows held photos before the store existed.
      const before = await startServer({ database: database.config }, { ...owned.env("TEST_CHAIN_"), PHOTO_STORE: "database" });
      const rest = await RestClient.connect(before.url);
      const agent = await rest.registerAgent("mover");
      const operator = await rest.registerOperator("mover");
      for (let t = 0; t < TASKS; t++) {
        const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey })).status).to.equal(200);
        const photos = Array.from({ length: PHOTOS_PER_PROOF }, (_, i) => generatePhoto(100 + t * PHOTOS_PER_PROOF + i));
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm(photos) })).status).to.equal(202);
      }
      await before.stop();

      const orm = await initORM(database.config);
      try {
        const connection = orm.em.getConnection();
        await connection.execute(
          "update proof_photos set data = (select data from photo_blobs where photo_blobs.key = 'proof-photos/' || proof_photos.id || '/original'), stored = ?, has_copies = ?, width = null, height = null",
          [false, false],
        );
        await connection.execute("delete from photo_blobs");
        const legacy = await orm.em.fork().find(ProofPhoto, {}, { populate: ["data"] });
        expect(legacy.filter((photo) => photo.data && !photo.stored).length, "every photo is back in its row").to.equal(TOTAL);
        const originals = new Map(legacy.map((photo) => [photo.id, Buffer.from(photo.data!)]));

        const env = { ...owned.env("TEST_CHAIN_"), DATABASE_URL: database.url, PHOTO_STORE: "directory", PHOTO_DIRECTORY: directory, PHOTO_MOVE_BATCH: "1", WORKER_LOCK_MS: "1000" };
        server = await spawnServer(env);
        let atKill = 0;
        for (const until = Date.now() + 60_000; Date.now() < until; ) {
          atKill = await storedCount(orm);
          if (atKill >= 3) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await server.kill();
        atKill = await storedCount(orm);
        expect(atKill, "the process died with photos still to move").to.be.within(1, TOTAL - 1);

        server = await spawnServer(env);
        for (const until = Date.now() + 60_000; (await storedCount(orm)) < TOTAL; ) {
          if (Date.now() > until) throw new Error(`after the restart only ${await storedCount(orm)} of ${TOTAL} photos were moved`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await stopGracefully(server);
        server = undefined;

        const moved = await orm.em.fork().find(ProofPhoto, {}, { populate: ["data"] });
        expect(moved.map((photo) => [photo.stored, photo.data ?? null, photo.hasCopies, photo.width, photo.height])).to.deep.equal(moved.map(() => [true, null, true, 640, 480]));
        // Each photo's window hashes replace the ones it had (a photo moved twice over, or hashed before the move, keeps one set) and are of the current method.
        const hashRows = await orm.em.fork().find(ProofPhotoHash, {});
        expect(moved.map((photo) => [photo.hashVersion, hashRows.filter((row) => row.photo.id === photo.id).map((row) => row.window).sort((a, b) => a - b)])).to.deep.equal(
          moved.map(() => [HASH_VERSION, HASH_WINDOWS.map((_, window) => window)]),
        );
        for (const photo of moved) {
          const file = await readFile(path.join(directory, "proof-photos", photo.id, "original"));
          expect(file.equals(originals.get(photo.id)!), `photo ${photo.id} is byte for byte what was uploaded`).to.equal(true);
          expect(createHash("sha256").update(file).digest("hex")).to.equal(photo.sha256);
          expect((await readFile(path.join(directory, "proof-photos", photo.id, "display"))).length).to.be.greaterThan(0);
        }
      } finally {
        await orm.close();
      }
    });
  });
}
