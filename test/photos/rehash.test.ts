import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { killMidwayAndResume, photoJobFixture } from "../support/photo-jobs";
import { initORM } from "../../server/db/orm";
import { generatePhoto } from "../../server/photos/photo.samples";
import { HASH_VERSION, HASH_WINDOWS } from "../../server/photos/photo.hash";
import { ProofPhotoHash } from "../../server/photos/photo-hash.entity";
import { Proof, ProofPhoto } from "../../server/proofs/proof.entity";
import { findReuse } from "../../server/guardian/reuse.finder";

const TASKS = 3;
const PHOTOS_PER_PROOF = 6;
const TOTAL = TASKS * PHOTOS_PER_PROOF;

/** One bit flipped in each 16-bit band: 4 bits away, so no band is shared and the distance is past NEAR_DUPLICATE_BITS, as the old method's hash could be. */
function oldMethodHash(hash: string): string {
  return (BigInt(`0x${hash}`) ^ 0x0001_0002_0004_0008n).toString(16).padStart(16, "0");
}

for (const db of testDatabases()) {
  describe(`hashing photos from before the window hashes again (${db.name})`, () => {
    const fixture = photoJobFixture(db);

    it("old photos get every window hash, as uploads do; a kill -9 mid-way resumes; an exact copy of an old photo is then found", async function () {
      this.timeout(180_000);
      const { owned, database, directory } = fixture;
      const photoEnv = { PHOTO_STORE: "directory", PHOTO_DIRECTORY: directory };
      const before = await startServer({ database: database.config }, { ...owned.env("TEST_CHAIN_"), ...photoEnv });
      const rest = await RestClient.connect(before.url);
      const agent = await rest.registerAgent("rehasher");
      const operator = await rest.registerOperator("rehasher");
      const submit = async (photos: Buffer[]) => {
        const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey })).status).to.equal(200);
        expect((await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm(photos) })).status).to.equal(202);
        return created.body.task_id as string;
      };
      const tasks: string[] = [];
      for (let t = 0; t < TASKS; t++) tasks.push(await submit(Array.from({ length: PHOTOS_PER_PROOF }, (_, i) => generatePhoto(300 + t * PHOTOS_PER_PROOF + i))));
      // Later, another task's proof: byte-for-byte copies of the first task's photos.
      const copier = await submit(Array.from({ length: PHOTOS_PER_PROOF }, (_, i) => generatePhoto(300 + i)));
      await before.stop();

      const orm = await initORM(database.config);
      const reuseOfCopies = async () => {
        const em = orm.em.fork();
        const proof = await em.findOneOrFail(Proof, { task: copier }, { populate: ["task"] });
        return findReuse(em, proof, await em.find(ProofPhoto, { proof }, { orderBy: { position: "asc" } }));
      };
      const upToDate = () => orm.em.fork().count(ProofPhoto, { proof: { task: { $ne: copier } }, hashVersion: HASH_VERSION });
      const hashesOf = async () => {
        const rows = await orm.em.fork().find(ProofPhotoHash, { photo: { proof: { task: { $ne: copier } } } }, { orderBy: { photo: { id: "asc" }, window: "asc" } });
        return rows.map((row) => [row.photo.id, row.window, row.hash, row.band0, row.band1, row.band2, row.band3]);
      };
      try {
        expect(await reuseOfCopies(), "copies of photos hashed by uploads are found").to.deep.equal(Array(PHOTOS_PER_PROOF).fill({ taskId: tasks[0], bits: 0 }));
        const uploaded = await hashesOf();
        expect(uploaded.length).to.equal(TOTAL * HASH_WINDOWS.length);

        // The earlier photos put back as the window hashes migration left them: the old method's whole-frame hash alone, as window 0.
        const em = orm.em.fork();
        const old = await em.find(ProofPhoto, { proof: { task: { $ne: copier } } });
        await em.nativeDelete(ProofPhotoHash, { photo: { $in: old.map((photo) => photo.id) }, window: { $gt: 0 } });
        for (const photo of old) {
          photo.dhash = oldMethodHash(photo.dhash!);
          photo.hashVersion = 0;
          const [row] = await em.find(ProofPhotoHash, { photo });
          em.remove(row);
          em.persist(new ProofPhotoHash(photo, 0, photo.dhash));
        }
        await em.flush();
        expect(await reuseOfCopies(), "exact copies of old photos were missed").to.deep.equal(Array(PHOTOS_PER_PROOF).fill(undefined));

        const env = { ...owned.env("TEST_CHAIN_"), ...photoEnv, DATABASE_URL: database.url, PHOTO_MOVE_BATCH: "1", WORKER_LOCK_MS: "1000" };
        await killMidwayAndResume(fixture, env, upToDate, TOTAL, "hashed again");

        // Every photo has exactly the rows its upload made, once each, and its whole-frame hash back.
        expect(await hashesOf()).to.deep.equal(uploaded);
        const dhashes = new Map(uploaded.filter((row) => row[1] === 0).map((row) => [row[0], row[2]]));
        for (const photo of await orm.em.fork().find(ProofPhoto, { proof: { task: { $ne: copier } } })) expect(photo.dhash).to.equal(dhashes.get(photo.id));
        expect(await reuseOfCopies(), "exact copies of old photos are found after the re-hash").to.deep.equal(Array(PHOTOS_PER_PROOF).fill({ taskId: tasks[0], bits: 0 }));
      } finally {
        await orm.close();
      }
    });
  });
}
