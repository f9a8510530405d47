import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { FileBytes, readMultipart } from "../../server/rest/multipart";
import type { MultipartBody, MultipartLimits } from "../../server/rest/rest.route";
import type { SpooledPhoto } from "../../server/proofs/proof.service";
import { DirectoryPhotoStore, STALE_SPOOL_MS } from "../../server/photos/directory.photo-store";
import { DomainError } from "../../server/common/errors";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, proofForm, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";

const LIMITS: MultipartLimits = { fileField: "photos", fileBytes: 2_000_000, files: 4, fields: ["notes"], fieldBytes: 1000 };
const BOUNDARY = "----humanops-test-boundary";
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** A multipart/form-data body of the given files (field "photos", unless named) and fields. */
function body(files: Array<Buffer | { name: string; data: Buffer }>, fields: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  files.forEach((file, i) => {
    const { name, data } = Buffer.isBuffer(file) ? { name: "photos", data: file } : file;
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="photo-${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), data, Buffer.from("\r\n"));
  });
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

/**
 * A server whose one route reads a multipart body with readMultipart (and
 * `spool`, when given); `read` resolves with what it read or the error it
 * failed with, for the next request.
 */
async function multipartServer(spool?: DirectoryPhotoStore) {
  let settle: (outcome: MultipartBody | Error) => void = () => undefined;
  const server = http.createServer((req, res) => {
    readMultipart(req, LIMITS, spool && (() => spool.spool())).then(
      (read) => {
        settle(read);
        res.end("ok");
      },
      (err: Error) => {
        settle(err);
        res.statusCode = 400;
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    /** Sends `data` whole with a Content-Length, or in pieces of `chunk` bytes without one (chunked). */
    send(data: Buffer, options: { length: boolean; chunk?: number }): Promise<MultipartBody | Error> {
      const read = new Promise<MultipartBody | Error>((resolve) => (settle = resolve));
      const headers: Record<string, string | number> = { "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
      if (options.length) headers["content-length"] = data.length;
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers }, (res) => res.resume());
      req.on("error", () => undefined);
      const chunk = options.chunk ?? data.length;
      for (let at = 0; at < data.length; at += chunk) req.write(data.subarray(at, at + chunk));
      req.end();
      return read;
    },
    /** Sends the first `bytes` of `data` with a Content-Length of the whole, then cuts the connection. */
    cutOff(data: Buffer, bytes: number): Promise<MultipartBody | Error> {
      const read = new Promise<MultipartBody | Error>((resolve) => (settle = resolve));
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "content-length": data.length } });
      req.on("error", () => undefined);
      req.write(data.subarray(0, bytes), () => setTimeout(() => req.destroy(), 50));
      return read;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("REST multipart uploads", () => {
  describe("in memory", () => {
    let server: Awaited<ReturnType<typeof multipartServer>>;
    before(async () => (server = await multipartServer()));
    after(() => server.close());

    for (const length of [true, false]) {
      it(`reads each file's exact bytes and their SHA-256 as they arrive, ${length ? "with" : "without"} a Content-Length`, async () => {
        const files = [randomBytes(1_300_000), randomBytes(70_001), randomBytes(1)];
        const read = await server.send(body(files, { notes: "three files" }), { length, chunk: 16_384 });
        if (read instanceof Error) throw read;
        expect(read.fields).to.deep.equal({ notes: "three files" });
        expect(read.files.map((file, i) => Buffer.isBuffer(file.data) && file.data.equals(files[i]))).to.deep.equal([true, true, true]);
        expect(read.files.map((file) => file.sha256)).to.deep.equal(files.map(sha256));
        expect(read.files.map((file) => [file.contentType, file.filename])).to.deep.equal(files.map((_, i) => ["image/jpeg", `photo-${i}.jpg`]));
        // No file keeps a buffer more than twice its size alive.
        for (const file of read.files) expect((file.data as Buffer).buffer.byteLength).to.be.at.most(Math.max(2 * (file.data as Buffer).length, 8192));
      });
    }

    it("refuses a file over the limit, naming the field and the limit", async () => {
      const read = await server.send(body([randomBytes(10), randomBytes(LIMITS.fileBytes + 1)]), { length: true });
      expect(read).to.be.instanceOf(DomainError);
      expect(read).to.include({ code: "PAYLOAD_TOO_LARGE", field: "photos[1]", message: `photos[1]: must be at most ${LIMITS.fileBytes} bytes` });
    });

    it("takes a file of exactly the limit", async () => {
      const file = randomBytes(LIMITS.fileBytes);
      const read = await server.send(body([file]), { length: false, chunk: 65_536 });
      if (read instanceof Error) throw read;
      expect((read.files[0].data as Buffer).equals(file)).to.equal(true);
      expect(read.files[0].sha256).to.equal(sha256(file));
    });
  });

  describe("FileBytes", () => {
    it("keeps its buffer when the file fills at least half of it, and copies a file that fills less out to a buffer of its own size", async () => {
      const half = new FileBytes(1_000_000, 2_000_000);
      const most = randomBytes(600_000);
      half.write(most.subarray(0, 100_000));
      half.write(most.subarray(100_000));
      const kept = await half.end();
      expect(kept.data.equals(most)).to.equal(true);
      expect(kept.data.buffer.byteLength, "the pre-sized buffer, not a copy").to.equal(1_000_000);

      const little = new FileBytes(1_000_000, 2_000_000);
      const few = randomBytes(100_000);
      little.write(few);
      const copied = await little.end();
      expect(copied.data.equals(few)).to.equal(true);
      expect(copied.sha256).to.equal(sha256(few));
      expect(copied.data.buffer.byteLength, "a copy of the file's size").to.equal(100_000);
    });

    it("takes a declared length on trust only up to 1 MiB: a client that declares 50 MB and stalls holds no more, and the buffer grows as bytes arrive", () => {
      const bytes = new FileBytes(50_000_000, 50_000_000);
      expect(bytes.capacity).to.equal(1_048_576);
      bytes.write(randomBytes(1_048_577));
      expect(bytes.capacity).to.equal(2_097_152);
    });

    it("grows a buffer of unknown size by doubling, no further than the limit", () => {
      const bytes = new FileBytes(undefined, 100_000);
      expect(bytes.capacity).to.equal(65_536);
      bytes.write(randomBytes(65_536));
      bytes.write(randomBytes(1));
      expect(bytes.capacity).to.equal(100_000);
    });
  });

  describe("spooled to the directory photo store", () => {
    let root: string;
    let store: DirectoryPhotoStore;
    let server: Awaited<ReturnType<typeof multipartServer>>;
    const incoming = () => fs.readdirSync(path.join(root, ".incoming"));
    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-spool-"));
      store = new DirectoryPhotoStore(root);
      server = await multipartServer(store);
    });
    after(async () => {
      await server.close();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it("writes each file to a temporary file of the store with its hash and first bytes; discard() removes what was not adopted", async () => {
      const files = [randomBytes(900_000), randomBytes(5)];
      const read = await server.send(body(files, { notes: "spooled" }), { length: false, chunk: 10_000 });
      if (read instanceof Error) throw read;
      const spooled = read.files.map((file) => file.data as SpooledPhoto);
      expect(spooled.map((file, i) => fs.readFileSync(file.file).equals(files[i]))).to.deep.equal([true, true]);
      expect(spooled.map((file) => [file.size, file.head.toString("hex")])).to.deep.equal(files.map((file) => [file.length, file.subarray(0, 64).toString("hex")]));
      expect(read.files.map((file) => file.sha256)).to.deep.equal(files.map(sha256));
      expect(spooled.map((file) => path.dirname(file.file))).to.deep.equal([path.join(root, ".incoming"), path.join(root, ".incoming")]);

      await store.adopt({} as never, "proof-photos/p1/original", spooled[0].file);
      await read.discard();
      expect(incoming()).to.deep.equal([]);
      expect(fs.readFileSync(path.join(root, "proof-photos", "p1", "original")).equals(files[0])).to.equal(true);
    });

    it("removes every spooled file of a body that fails (a file over the limit after one that was whole)", async () => {
      const read = await server.send(body([randomBytes(300_000), randomBytes(LIMITS.fileBytes + 10)]), { length: true, chunk: 50_000 });
      expect(read).to.be.instanceOf(DomainError);
      expect(read).to.include({ field: "photos[1]" });
      expect(incoming()).to.deep.equal([]);
    });

    it("spools no part that starts after the body failed (busboy reads on through the chunk it holds): an unknown file field or a file over the limit, then a photo, in one write", async () => {
      for (const files of [
        [{ name: "other", data: randomBytes(100) }, randomBytes(1000)],
        [randomBytes(LIMITS.fileBytes + 10), randomBytes(1000)],
      ]) {
        const read = await server.send(body(files), { length: true });
        expect(read).to.be.instanceOf(Error);
        expect(incoming()).to.deep.equal([]);
      }
    });

    it("makes its incoming directory again when it was removed while the process ran", async () => {
      fs.rmSync(path.join(root, ".incoming"), { recursive: true, force: true });
      const file = randomBytes(2000);
      const read = await server.send(body([file]), { length: true });
      if (read instanceof Error) throw read;
      expect(fs.readFileSync((read.files[0].data as SpooledPhoto).file).equals(file)).to.equal(true);
      await read.discard();
      expect(incoming()).to.deep.equal([]);
    });

    it("removes the spooled files of a request cut off half way", async () => {
      const data = body([randomBytes(400_000), randomBytes(400_000)]);
      const read = await server.cutOff(data, 600_000);
      expect(read).to.be.instanceOf(Error);
      expect((read as Error).message).to.match(/cut off|Unexpected end/);
      expect(incoming()).to.deep.equal([]);
    });

    it("removes spooled files a dead process left (older than the stale age), and no fresh one", async () => {
      const spooled = store.spool();
      spooled.write(Buffer.from("fresh"));
      await spooled.end();
      const left = path.join(root, ".incoming", "left-by-a-crash.tmp");
      fs.writeFileSync(left, "old");
      const old = (Date.now() - STALE_SPOOL_MS - 60_000) / 1000;
      fs.utimesSync(left, old, old);
      expect(await store.sweep(Date.now() - STALE_SPOOL_MS)).to.equal(1);
      expect(incoming()).to.deep.equal([path.basename(spooled.path)]);
      await spooled.remove();
      expect(incoming()).to.deep.equal([]);
    });

    it("refuses a spooled file that is not in the store's incoming directory", async () => {
      const outside = path.join(root, "elsewhere.tmp");
      fs.writeFileSync(outside, "x");
      let refused: Error | undefined;
      await store.adopt({} as never, "proof-photos/p2/original", outside).catch((err: Error) => (refused = err));
      expect(refused?.message).to.match(/not a spooled upload/);
    });
  });
});

for (const db of testDatabases()) {
  describe(`REST proof uploads to the directory photo store (${db.name})`, () => {
    let root: string;
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string };
    let operator: { testApiKey: string };
    /** Every file under the store, by its path in it. */
    const filesOf = (dir = root, prefix = ""): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesOf(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]));

    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-store-"));
      server = await startServer(db, { PHOTO_STORE: "directory", PHOTO_DIRECTORY: root });
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("poster");
      operator = await rest.registerOperator("walker");
    });
    after(async () => {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it("stores an accepted proof's photos under their keys, hashed as they arrived, with nothing left in the incoming directory", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      const sent = [generatePhoto(21), generatePhoto(22)];
      const upload = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm(sent, "two") });
      expect(upload.status, JSON.stringify(upload.body)).to.equal(202);
      const { ProofPhoto } = await import("../../server/proofs/proof.entity");
      const stored = await server.app.orm.em.fork().find(ProofPhoto, { proof: { task: created.body.task_id } }, { orderBy: { position: "asc" } });
      expect(stored.map((photo) => photo.sha256)).to.deep.equal(sent.map(sha256));
      expect(stored.map((photo) => fs.readFileSync(path.join(root, "proof-photos", photo.id, "original")).equals(sent[photo.position]))).to.deep.equal([true, true]);
      expect(filesOf().filter((file) => !file.startsWith("proof-photos/")), "no temporary file is left").to.deep.equal([]);
      expect(filesOf()).to.have.length(6);
    });

    it("stores a message's photo the same way: adopted from the incoming directory, with the hash taken as it arrived", async () => {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      const photo = generatePhoto(25);
      const form = new FormData();
      form.append("text", "this door");
      form.append("photos", new Blob([photo], { type: "image/png" }), "door.png");
      const sent = await rest.request("POST", `/tasks/${created.body.task_id}/messages`, { apiKey: operator.testApiKey, form });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
      const { MessagePhoto } = await import("../../server/messages/message.entity");
      const [stored] = await server.app.orm.em.fork().find(MessagePhoto, { message: sent.body.message_id ?? sent.body.id });
      expect([stored.sha256, stored.byteSize]).to.deep.equal([sha256(photo), photo.length]);
      expect(fs.readFileSync(path.join(root, "proof-photos", stored.id, "original")).equals(photo)).to.equal(true);
      expect(filesOf().filter((file) => !file.startsWith("proof-photos/"))).to.deep.equal([]);
    });

    it("leaves no file behind after a submission that fails (a task the operator does not hold)", async () => {
      const before = filesOf();
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      const refused = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm([generatePhoto(23)]) });
      expect(refused.status, JSON.stringify(refused.body)).to.be.within(400, 499);
      expect(filesOf()).to.deep.equal(before);
    });

    it("leaves no file behind after a submission refused for its photos (not an accepted type)", async () => {
      const before = filesOf();
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
      await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      const refused = await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: proofForm([generatePhoto(24), Buffer.from("GIF89a not a photo")]) });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(415);
      expect(filesOf()).to.deep.equal(before);
    });
  });
}
