import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { testDatabases } from "../support/databases";
import { startServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { killMidwayAndResume, photoJobFixture } from "../support/photo-jobs";
import { initORM, type Orm } from "../../server/db/orm";
import { generatePhoto } from "../../server/photos/photo.samples";
import { ProofPhoto } from "../../server/proofs/proof.entity";
import { ProofPhotoHash } from "../../server/photos/photo-hash.entity";
import { HASH_VERSION, HASH_WINDOWS } from "../../server/photos/photo.hash";

const TASKS = 3;
const PHOTOS_PER_PROOF = 10;
const TOTAL = TASKS * PHOTOS_PER_PROOF;

async function storedCount(orm: Orm): Promise<number> {
  return orm.em.fork().count(ProofPhoto, { stored: true });
}

for (const db of testDatabases()) {
  describe(`moving photos out of database rows into the photo store (${db.name})`, () => {
    const fixture = photoJobFixture(db);

    it("kill -9 in the middle of the move, restart: every photo is in the store, byte for byte, and no row keeps its bytes", async function () {
      this.timeout(180_000);
      const { owned, database, directory } = fixture;
      // Proof submitted the usual way, then put back the way rows held photos before the store existed.
      const before = await startServer({ database: database.config }, { ...owned.env("TEST_CHAIN_"), PHOTO_STORE: "database" });
      const rest = await RestClient.connect(before.url);
      const agent = await rest.registerAgent("mover");
      const operator = await rest.registerOperator("mover");
      for (let t = 0; t < TASKS; t++) {
        // Drawn before the requests: drawing them can outlast the server's keep-alive on a busy machine, and the upload would then meet a closed connection.
        const photos = Array.from({ length: PHOTOS_PER_PROOF }, (_, i) => generatePhoto(100 + t * PHOTOS_PER_PROOF + i));
        const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey })).status).to.equal(200);
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
        await killMidwayAndResume(fixture, env, () => storedCount(orm), TOTAL, "moved");

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
