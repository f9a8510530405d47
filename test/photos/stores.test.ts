import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initORM, type Orm } from "../../server/db/orm";
import { type ConfigError, loadConfig } from "../../server/config";
import { createPhotoStore } from "../../server/photos/photo-store.factory";
import type { PhotoStore } from "../../server/photos/photo.store";
import { generatePhoto } from "../../server/photos/photo.samples";
import { startS3, type TestS3 } from "../support/s3-server";
import { testDatabases } from "../support/databases";

describe("photo stores", () => {
  let orm: Orm;
  let s3: TestS3;
  let directory: string;
  before(async () => {
    orm = await initORM({ kind: "sqlite", path: ":memory:" });
    s3 = await startS3();
    directory = await mkdtemp(path.join(os.tmpdir(), "humanops-photos-"));
  });
  after(async () => {
    await orm.close();
    await s3.stop();
    await rm(directory, { recursive: true, force: true });
  });

  const stores: Record<string, () => PhotoStore> = {
    database: () => createPhotoStore(loadConfig({ PHOTO_STORE: "database" }).photos),
    directory: () => createPhotoStore(loadConfig({ PHOTO_STORE: "directory", PHOTO_DIRECTORY: directory }).photos),
    "s3 (a real S3-compatible server on loopback)": () => createPhotoStore(loadConfig(s3.env).photos),
  };

  for (const [name, make] of Object.entries(stores)) {
    it(`${name}: gives back exactly the bytes written, overwrites the same key, forgets deleted keys`, async () => {
      const store = make();
      const em = orm.em.fork();
      const photo = generatePhoto(31);
      await store.put(em, "proof-photos/a/original", photo, "image/png");
      await store.put(em, "proof-photos/a/original", photo, "image/png");
      await store.put(em, "proof-photos/b/original", generatePhoto(32), "image/png");
      expect((await store.get(em, "proof-photos/a/original"))!.equals(photo)).to.equal(true);
      expect(await store.get(em, "proof-photos/missing/original")).to.equal(undefined);
      await store.delete(em, ["proof-photos/a/original", "proof-photos/never/original"]);
      expect(await store.get(em, "proof-photos/a/original")).to.equal(undefined);
      expect((await store.get(em, "proof-photos/b/original"))!.equals(generatePhoto(32))).to.equal(true);
    });
  }

  for (const database of testDatabases()) {
    it(`database (${database.name}): photos saved and read side by side inside a transaction never overlap on its one connection`, async () => {
      const created = await database.create();
      const db = await initORM(created.database);
      try {
        const store = createPhotoStore(loadConfig({ PHOTO_STORE: "database" }).photos);
        // Statements in flight per connection, from knex's own query / query-response events.
        const running = new Map<string, number>();
        let overlapped = 0;
        const knex = db.em.getConnection().getKnex();
        const connection = (query: { __knexUid?: string; __knexTxId?: string }) => String(query.__knexTxId ?? query.__knexUid);
        knex.on("query", (query: { sql?: string; __knexUid?: string; __knexTxId?: string }) => {
          // BEGIN and COMMIT are sent by knex itself and get no query-response.
          if (/^(begin|commit|rollback)/i.test(query.sql ?? "")) return;
          const n = (running.get(connection(query)) ?? 0) + 1;
          running.set(connection(query), n);
          if (n > 1 && query.__knexTxId) overlapped++;
        });
        const done = (_response: unknown, query: { __knexUid?: string; __knexTxId?: string }) => running.set(connection(query), (running.get(connection(query)) ?? 1) - 1);
        knex.on("query-response", done);
        knex.on("query-error", (_error: unknown, query: { __knexUid?: string; __knexTxId?: string }) => done(undefined, query));
        const photos = [41, 42, 43, 44].map((seed) => generatePhoto(seed));
        await db.em.fork().transactional(async (tx) => {
          await Promise.all(photos.map((photo, i) => store.put(tx, `proof-photos/t${i}/original`, photo, "image/png")));
          const read = await Promise.all(photos.map((_photo, i) => store.get(tx, `proof-photos/t${i}/original`)));
          read.forEach((data, i) => expect(data!.equals(photos[i])).to.equal(true));
        });
        expect(overlapped, "statements sent to the transaction's connection while another was running").to.equal(0);
      } finally {
        await db.close();
        await created.drop();
      }
    });
  }

  it("s3: presigns a GET the bucket serves with the photo's type", async () => {
    const store = stores["s3 (a real S3-compatible server on loopback)"]();
    const photo = generatePhoto(33);
    await store.put(orm.em.fork(), "proof-photos/c/original", photo, "image/png");
    const url = await store.presign!("proof-photos/c/original", "image/png", 60);
    expect(url).to.match(/X-Amz-Expires=60/);
    const res = await fetch(url);
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.equal("image/png");
    expect(Buffer.from(await res.arrayBuffer()).equals(photo)).to.equal(true);
  });

  it("refuses a directory store with REDIS_URL (several replicas) unless it is declared shared, and S3 without a bucket", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    const [replicated] = problems({ REDIS_URL: "redis://127.0.0.1:6379" });
    expect(replicated).to.match(/^PHOTO_STORE: a photo directory is local to one machine, and REDIS_URL means several replicas that must all see every photo/);
    expect(replicated).to.include("PHOTO_DIRECTORY_SHARED=true");
    expect(problems({ REDIS_URL: "redis://127.0.0.1:6379", PHOTO_DIRECTORY_SHARED: "true" })).to.deep.equal([]);
    expect(problems({ REDIS_URL: "redis://127.0.0.1:6379", PHOTO_STORE: "database" })).to.deep.equal([]);
    expect(problems({ PHOTO_STORE: "s3" })).to.deep.equal(["S3_BUCKET: is required when PHOTO_STORE=s3"]);
    expect(problems({ PHOTO_URL_TTL_SECONDS: "3600" })).to.deep.equal(["PHOTO_URL_TTL_SECONDS: must be at most 900"]);
  });
});
