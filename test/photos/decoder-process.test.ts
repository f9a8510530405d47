import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { generatePhoto } from "../../server/photos/photo.samples";
import { PhotoDecoder } from "../../server/photos/photo.decoder";
import { DecoderProcess } from "../../server/photos/photo.process";
import { cameraJpeg } from "../support/photos";

describe("the photo decoder process", () => {
  const inline = new PhotoDecoder(50, 2);
  let child: DecoderProcess;

  before(() => {
    child = new DecoderProcess(50, 2);
  });
  after(() => child.close());

  it("answers exactly what the decoder in the server process answers: copies, hashes, capture facts, the model's copy", async function () {
    this.timeout(180_000);
    const large = await sharp(await cameraJpeg(7)).resize(2_400).withMetadata({ orientation: 6 }).keepExif().toBuffer();
    const fit = { maxEdge: 800, maxBytes: 100_000 };
    const [copies, hashes, decoded, small] = await Promise.all([child.copies(large), child.hashes(large), child.decode(large, fit), child.decode(generatePhoto(8))]);
    expect(copies).to.deep.equal(await inline.copies(large));
    expect(Buffer.isBuffer(copies!.display) && Buffer.isBuffer(copies!.thumbnail), "the copies are Buffers").to.equal(true);
    expect(hashes).to.deep.equal(await inline.hashes(large)).and.to.have.length(16);
    expect(decoded).to.deep.equal(await inline.decode(large, fit));
    expect(decoded!.capture.takenAt).to.be.instanceOf(Date);
    expect(Buffer.isBuffer(decoded!.model!.data) && Buffer.isBuffer(decoded!.exif), "the model's copy and the EXIF block are Buffers").to.equal(true);
    expect(small).to.deep.equal(await inline.decode(generatePhoto(8)));
  });

  it("reads a photo given as a local file itself, answering what it answers for the bytes; a missing file is an error naming it", async function () {
    this.timeout(180_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-decoder-"));
    try {
      const large = await sharp(await cameraJpeg(11)).resize(2_000).keepExif().toBuffer();
      const file = path.join(dir, "original");
      fs.writeFileSync(file, large);
      const fit = { maxEdge: 800, maxBytes: 100_000 };
      for (const decoder of [child, inline]) {
        expect(await decoder.copies({ file })).to.deep.equal(await inline.copies(large));
        expect(await decoder.hashes({ file })).to.deep.equal(await inline.hashes(large));
        expect(await decoder.decode({ file }, fit)).to.deep.equal(await inline.decode(large, fit));
      }
      const missing = path.join(dir, "missing");
      for (const decoder of [child, inline]) {
        await decoder.copies({ file: missing }).then(
          () => expect.fail("a missing file must fail, not decode to nothing"),
          (err: Error) => expect(err.message).to.include(missing),
        );
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers undefined for what does not decode, as the decoder does", async function () {
    this.timeout(180_000);
    const jpeg = await cameraJpeg(9);
    const truncated = jpeg.subarray(0, jpeg.length - 2_000);
    expect([await child.decode(truncated), await child.copies(truncated), await child.hashes(Buffer.from("not a photo"))]).to.deep.equal([undefined, undefined, undefined]);
  });

  it("runs below the server's CPU priority", async function () {
    this.timeout(180_000);
    await child.hashes(generatePhoto(10));
    const pid = (child as unknown as { child: { pid: number } }).child.pid;
    const { getPriority } = await import("node:os");
    expect(getPriority(pid)).to.be.greaterThan(getPriority());
  });

  it("fails what was asked of a child that died, and starts another for the next request", async function () {
    this.timeout(180_000);
    await child.hashes(generatePhoto(11));
    const first = (child as unknown as { child: { pid: number; kill(signal: string): boolean } }).child;
    const asked = child.copies(await sharp(generatePhoto(12, 4_000, 3_000)).jpeg().toBuffer());
    first.kill("SIGKILL");
    await asked.then(
      () => expect.fail("a request to a killed child must fail"),
      (err: Error) => expect(err.message).to.match(/photo decoder process exited \(SIGKILL\)/),
    );
    expect(await child.hashes(generatePhoto(13))).to.deep.equal(await inline.hashes(generatePhoto(13)));
    expect((child as unknown as { child: { pid: number } }).child.pid).to.not.equal(first.pid);
  });
});
