import { expect } from "chai";
import sharp from "sharp";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { PhotoDecoder } from "../../server/photos/photo.decoder";
import { ProofPhoto } from "../../server/proofs/proof.entity";
import { cameraJpeg } from "../support/photos";

function form(photos: Array<{ data: Buffer; type: string }>, notes?: string): FormData {
  const body = new FormData();
  photos.forEach((photo, i) => body.append("photos", new Blob([photo.data], { type: photo.type }), `photo-${i}`));
  if (notes !== undefined) body.append("notes", notes);
  return body;
}

describe("photo decoding with sharp", () => {
  const decoder = new PhotoDecoder(50, 2);

  it("turns a photo upright by its EXIF orientation and reads the camera's time and place", async () => {
    const decoded = await decoder.decode(await cameraJpeg());
    expect(decoded).to.deep.include({ format: "image/jpeg", width: 480, height: 640 });
    expect(decoded!.capture).to.deep.equal({ takenAt: new Date("2026-12-01T10:00:00Z"), latitude: 30.27, longitude: -97.74, make: "Acme", model: "Cam 1" });
  });

  it("makes an upright display copy of at most 1600 px and a thumbnail of at most 320 px, both JPEG without any metadata", async () => {
    const copies = await decoder.copies(await sharp(await cameraJpeg()).resize(2_400).withMetadata({ orientation: 6 }).keepExif().toBuffer());
    expect(copies).to.include({ width: 1_800, height: 2_400 });
    const display = await sharp(copies!.display).metadata();
    const thumbnail = await sharp(copies!.thumbnail).metadata();
    expect([display.format, display.width, display.height]).to.deep.equal(["jpeg", 1_200, 1_600]);
    expect([thumbnail.format, thumbnail.width, thumbnail.height]).to.deep.equal(["jpeg", 240, 320]);
    for (const copy of [display, thumbnail]) {
      expect([copy.exif, copy.xmp, copy.iptc, copy.orientation], "no EXIF (no GPS), XMP, IPTC or orientation").to.deep.equal([undefined, undefined, undefined, undefined]);
    }
  });

  it("accepts WebP, and refuses a truncated file and one over the pixel bound", async () => {
    const webp = await sharp(generatePhoto(3)).webp().toBuffer();
    expect(await decoder.decode(webp)).to.deep.include({ format: "image/webp", width: 640, height: 480 });
    const jpeg = await cameraJpeg(4);
    expect(await decoder.decode(jpeg.subarray(0, jpeg.length - 2_000)), "truncated").to.equal(undefined);
    expect(await new PhotoDecoder(0.2, 1).decode(jpeg), "0.3 megapixels over a bound of 0.2").to.equal(undefined);
  });
});

for (const db of testDatabases()) {
  describe(`photo uploads (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };
    let operator: { testApiKey: string; id: string };

    before(async () => {
      server = await startServer(db, { PHOTO_DECODE_BUDGET_MEGAPIXELS: "100" });
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("client");
      operator = await rest.registerOperator("photographer");
    });
    after(() => server.stop());

    async function acceptedTask(): Promise<string> {
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", proof_requirements: ["2 photos of the entrance"] }), agent.apiKey);
      const accepted = await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
      expect(accepted.status).to.equal(200);
      return created.body.task_id;
    }

    it("keeps a JPEG and a WebP exactly as uploaded, EXIF included, with upright sizes and the camera's capture time", async () => {
      const taskId = await acceptedTask();
      const jpeg = await cameraJpeg(5);
      const webp = await sharp(generatePhoto(6)).webp().toBuffer();
      const upload = await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: form([{ data: jpeg, type: "image/jpeg" }, { data: webp, type: "image/webp" }]) });
      expect(upload.status).to.equal(202);
      expect(upload.body.proof.photos.map((p: any) => p.content_type)).to.deep.equal(["image/jpeg", "image/webp"]);

      const em = server.app.orm.em.fork();
      const photos = await em.find(ProofPhoto, { proof: { task: taskId } }, { orderBy: { position: "asc" } });
      expect(photos.map((p) => [p.stored, p.hasCopies, p.width, p.height])).to.deep.equal([[true, true, 480, 640], [true, true, 640, 480]]);
      expect(photos[0].takenAt?.toISOString()).to.equal("2026-12-01T10:00:00.000Z");
      const original = await server.app.services.photos.read(em, photos[0], "original");
      expect(original!.data.equals(jpeg), "the original is byte for byte the upload").to.equal(true);
      expect((await server.app.services.photos.read(em, photos[1], "original"))!.data.equals(webp)).to.equal(true);
      const display = await server.app.services.photos.read(em, photos[0], "display");
      expect(display!.contentType).to.equal("image/jpeg");
      expect((await sharp(display!.data).metadata()).exif, "the display copy has no EXIF").to.equal(undefined);
    });

    it("refuses HEIC (and AVIF, GIF) as 415 naming the accepted types, and stores nothing", async () => {
      const taskId = await acceptedTask();
      const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypheic\0\0\0\0mif1heic", "latin1"), Buffer.alloc(200)]);
      const avif = await sharp(generatePhoto(7)).avif().toBuffer();
      for (const [data, type] of [[heic, "image/heic"], [avif, "image/avif"], [Buffer.from("GIF89a..."), "image/gif"]] as const) {
        const res = await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: form([{ data: generatePhoto(8), type: "image/png" }, { data, type }]) });
        expect(res.status).to.equal(415);
        expect(res.body.error).to.include({ code: "UNSUPPORTED_MEDIA_TYPE", field: "photos[1]" });
        expect(res.body.error.message).to.include("image/jpeg, image/png, image/webp");
      }
      const task = await rest.get(`/tasks/${taskId}`, operator.testApiKey);
      expect(task.body).to.include({ status: "ACCEPTED", attempts: 0 });
    });

    it("refuses proof whose photos add up to more pixels than the decode budget, from their headers, naming the limit", async () => {
      const taskId = await acceptedTask();
      // 7000x7000 black: 49 megapixels in about 143 KB of PNG.
      const bomb = await sharp({ create: { width: 7_000, height: 7_000, channels: 3, background: "black" } }).png({ compressionLevel: 9 }).toBuffer();
      expect(bomb.length).to.be.below(200_000);
      const photos = Array.from({ length: 10 }, () => ({ data: bomb, type: "image/png" }));
      const refused = await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: form(photos) });
      expect(refused.status).to.equal(413);
      expect(refused.body.error).to.include({ code: "PAYLOAD_TOO_LARGE", field: "photos" });
      expect(refused.body.error.message).to.equal("photos: together they are 490.0 megapixels, over the limit of 100 megapixels per proof (send smaller or fewer photos)");
      expect((await rest.get(`/tasks/${taskId}`, operator.testApiKey)).body).to.include({ status: "ACCEPTED", attempts: 0 });
      expect(await server.app.orm.em.fork().count(ProofPhoto, { proof: { task: taskId } })).to.equal(0);

      const within = await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: form([photos[0], photos[1]]) });
      expect(within.status, "two of them (98 megapixels) are within the budget").to.equal(202);
    });
  });
}
