import { expect } from "chai";
import sharp from "sharp";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient, restTaskBody } from "../support/rest-client";
import { generatePhoto } from "../../server/photos/photo.samples";
import { cameraJpeg } from "../support/photos";
import { until } from "../support/until";
import { Receiver } from "../live/support/receiver";
import { startS3, type TestS3 } from "../support/s3-server";

const PHOTOS = `query($id: ID!) { task(id: $id) { proofs { attempt photos { position width height takenAt distanceFromTaskM
  original: url(size: ORIGINAL) display: url(size: DISPLAY) thumbnail: url(size: THUMBNAIL) } } } }`;

async function fetchBytes(url: string, apiKey?: string): Promise<{ status: number; type: string | null; data: Buffer }> {
  const res = await fetch(url, { headers: apiKey ? { "X-API-Key": apiKey } : {} });
  return { status: res.status, type: res.headers.get("content-type"), data: Buffer.from(await res.arrayBuffer()) };
}

for (const db of testDatabases()) {
  describe(`the agent sees its proof photos (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string };
    let stranger: { apiKey: string };
    let operator: { testApiKey: string };
    let otherOperator: { testApiKey: string };
    let taskId: string;
    let jpeg: Buffer;
    const png = generatePhoto(41);
    let receiver: Receiver;

    before(async () => {
      server = await startServer(db, { PHOTO_URL_TTL_SECONDS: "60", WEBHOOK_POLL_MS: "20" });
      rest = await RestClient.connect(server.url);
      receiver = await new Receiver().start();
      agent = await rest.registerAgent("buyer");
      expect((await rest.post("/webhooks/endpoints", { url: `${receiver.url}/hooks`, event_types: ["task.accepted", "task.proof_submitted"] }, agent.apiKey)).status).to.equal(201);
      stranger = await rest.registerAgent("stranger");
      operator = await rest.registerOperator("shooter");
      otherOperator = await rest.registerOperator("bystander");
      jpeg = await cameraJpeg(40);
      // The camera's GPS (30.27, -97.74) is about 56 m from the task's point.
      const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL", location: { lat: 30.2695, lng: -97.7400 }, proof_requirements: ["2 photos"] }), agent.apiKey);
      taskId = created.body.task_id;
      await rest.request("POST", `/tasks/${taskId}/accept`, { apiKey: operator.testApiKey });
      const body = new FormData();
      body.append("photos", new Blob([jpeg], { type: "image/jpeg" }), "front.jpg");
      body.append("photos", new Blob([png], { type: "image/png" }), "sign.png");
      expect((await rest.request("POST", `/tasks/${taskId}/proof`, { apiKey: operator.testApiKey, form: body })).status).to.equal(202);
    });
    after(async () => {
      await server.stop();
      await receiver.close();
    });

    it("GraphQL: sizes, capture time, distance from the task and three signed URLs that open without a key", async () => {
      const { task } = await server.client.ok(PHOTOS, { id: taskId }, agent.apiKey);
      const [front, sign] = task.proofs[0].photos;
      expect(front).to.include({ position: 0, width: 480, height: 640, takenAt: "2026-12-01T10:00:00.000Z" });
      expect(front.distanceFromTaskM).to.be.within(50, 60);
      expect(sign).to.include({ width: 640, height: 480, takenAt: null, distanceFromTaskM: null });
      const original = await fetchBytes(front.original);
      expect(original.status).to.equal(200);
      expect(original.type).to.equal("image/jpeg");
      expect(original.data.equals(jpeg), "the original, EXIF and all").to.equal(true);
      const display = await fetchBytes(front.display);
      expect((await sharp(display.data).metadata())).to.include({ format: "jpeg", width: 480, height: 640 });
      expect((await sharp(display.data).metadata()).exif).to.equal(undefined);
      expect((await sharp((await fetchBytes(sign.thumbnail)).data).metadata())).to.include({ width: 320, height: 240 });
      expect(new URL(front.original).searchParams.get("expires")).to.match(/^\d+$/);
      expect(Number(new URL(front.original).searchParams.get("expires")) * 1000 - Date.now()).to.be.within(0, 61_000);
    });

    it("GraphQL: the submitting operator gets the URLs too; another agent or operator sees no photos and no URLs", async () => {
      const mine = await server.client.ok(PHOTOS, { id: taskId }, operator.testApiKey);
      expect(mine.task.proofs[0].photos[1].original).to.be.a("string");
      for (const key of [stranger.apiKey, otherOperator.testApiKey]) {
        const seen = await server.client.request(PHOTOS, { id: taskId }, key);
        expect(seen.data?.task?.proofs ?? [], "nothing of the proof").to.deep.equal([]);
      }
    });

    it("REST: the task body carries url, display_url and thumbnail_url; the route serves each size to the agent's key", async () => {
      const { body } = await rest.get(`/tasks/${taskId}`, agent.apiKey);
      const [front] = body.proof.photos;
      expect(front).to.include({ position: 0, content_type: "image/jpeg", width: 480, height: 640, taken_at: "2026-12-01T10:00:00.000Z" });
      for (const field of ["url", "display_url", "thumbnail_url"]) expect((await fetchBytes(front[field])).status, field).to.equal(200);
      const route = `${rest.base}/tasks/${taskId}/proof/photos/0`;
      expect((await fetchBytes(`${route}?size=ORIGINAL`, agent.apiKey)).data.equals(jpeg)).to.equal(true);
      expect((await fetchBytes(`${route}?size=ORIGINAL`, operator.testApiKey)).data.equals(jpeg), "and to the operator who submitted it").to.equal(true);
      const thumbnail = await fetchBytes(`${route}?size=THUMBNAIL`, agent.apiKey);
      expect(thumbnail.type).to.equal("image/jpeg");
      expect((await sharp(thumbnail.data).metadata()).height).to.equal(320);
      expect((await fetchBytes(`${rest.base}/tasks/${taskId}/proof/photos/1?size=ORIGINAL&attempt=1`, agent.apiKey)).data.equals(png)).to.equal(true);
    });

    it("REST: another agent, another operator, no key, a tampered or an expired signature are refused", async () => {
      const route = `${rest.base}/tasks/${taskId}/proof/photos/0?size=ORIGINAL`;
      for (const key of [stranger.apiKey, otherOperator.testApiKey]) {
        const res = await fetch(route, { headers: { "X-API-Key": key } });
        expect(res.status).to.equal(404);
        expect(((await res.json()) as any).error.code).to.equal("NOT_FOUND");
      }
      expect((await fetch(route)).status, "no key").to.equal(401);
      expect((await fetch(`${rest.base}/tasks/${taskId}/proof/photos/7?size=ORIGINAL`, { headers: { "X-API-Key": agent.apiKey } })).status).to.equal(404);

      const { body } = await rest.get(`/tasks/${taskId}`, agent.apiKey);
      const signed = new URL(body.proof.photos[0].url);
      const tampered = new URL(signed);
      tampered.searchParams.set("size", "DISPLAY");
      expect((await fetch(tampered)).status, "a signature for ORIGINAL does not open DISPLAY").to.equal(403);
      const otherPhoto = new URL(signed.toString().replace("/photos/0?", "/photos/1?"));
      expect((await fetch(otherPhoto)).status, "nor another photo").to.equal(403);
      const extended = new URL(signed);
      extended.searchParams.set("expires", String(Number(signed.searchParams.get("expires")) + 3_600));
      expect((await fetch(extended)).status, "nor a later expiry").to.equal(403);

      const links = server.app.services.photos.links;
      const address = { taskId, attempt: 1, position: 0 };
      const expired = links.signed(address, "ORIGINAL" as never, Date.now() - 61_000);
      const res = await fetch(expired);
      expect(res.status).to.equal(403);
      expect(((await res.json()) as any).error.message).to.match(/expired/);
      expect((await fetch(links.signed(address, "ORIGINAL" as never))).status, "a fresh one opens").to.equal(200);
    });

    it("webhooks: proof_submitted carries the photos' stable API routes (the agent's key opens them), never an expiring URL", async () => {
      const delivered = await until(() => receiver.requests.find((r) => r.headers["humanops-event-type"] === "task.proof_submitted"), "the task.proof_submitted delivery");
      const { data } = JSON.parse(delivered.body);
      expect(data.proof.attempt).to.equal(1);
      const [front, sign] = data.proof.photos;
      expect(front).to.deep.include({
        position: 0,
        content_type: "image/jpeg",
        url: `${server.url}/api/v1/tasks/${taskId}/proof/photos/0?attempt=1&size=ORIGINAL`,
        display_url: `${server.url}/api/v1/tasks/${taskId}/proof/photos/0?attempt=1&size=DISPLAY`,
        thumbnail_url: `${server.url}/api/v1/tasks/${taskId}/proof/photos/0?attempt=1&size=THUMBNAIL`,
      });
      expect(Object.keys(front).filter((key) => /url/.test(key)).sort(), "no expiring link besides the routes").to.deep.equal(["display_url", "thumbnail_url", "url"]);
      expect(JSON.stringify(data), "no signed URL anywhere in the payload").not.to.match(/[?&](expires|signature)=/);
      expect((await fetchBytes(sign.url, agent.apiKey)).data.equals(png)).to.equal(true);
      expect((await fetch(sign.url)).status, "not without the key").to.equal(401);
      expect((await fetch(sign.url, { headers: { "X-API-Key": stranger.apiKey } })).status).to.equal(404);
      const accepted = receiver.requests.find((r) => r.headers["humanops-event-type"] === "task.accepted");
      expect(JSON.parse(accepted!.body).data, "no proof before it is submitted").not.to.have.property("proof");
    });
  });
}

describe("photo URLs with PHOTO_STORE=s3 (a real S3-compatible server on loopback)", () => {
  let s3: TestS3;
  let server: TestServer;
  before(async () => {
    s3 = await startS3();
    server = await startServer(testDatabases()[0], { ...s3.env, PHOTO_URL_TTL_SECONDS: "120" });
  });
  after(async () => {
    await server.stop();
    await s3.stop();
  });

  it("hands the agent URLs presigned by the bucket, which serve the original and the copies", async () => {
    const rest = await RestClient.connect(server.url);
    const agent = await rest.registerAgent("bucket-buyer");
    const operator = await rest.registerOperator("bucket-shooter");
    const created = await rest.post("/tasks", restTaskBody({ test_scenario: "MANUAL" }), agent.apiKey);
    await rest.request("POST", `/tasks/${created.body.task_id}/accept`, { apiKey: operator.testApiKey });
    const photo = generatePhoto(51);
    const body = new FormData();
    body.append("photos", new Blob([photo], { type: "image/png" }), "front.png");
    expect((await rest.request("POST", `/tasks/${created.body.task_id}/proof`, { apiKey: operator.testApiKey, form: body })).status).to.equal(202);

    const { task } = await server.client.ok(PHOTOS, { id: created.body.task_id }, agent.apiKey);
    const [shown] = task.proofs[0].photos;
    expect(shown.original.startsWith(`${s3.env.S3_ENDPOINT}/${s3.env.S3_BUCKET}/proof-photos/`)).to.equal(true);
    expect(new URL(shown.original).searchParams.get("X-Amz-Expires")).to.equal("120");
    const original = await fetchBytes(shown.original);
    expect(original.type).to.equal("image/png");
    expect(original.data.equals(photo)).to.equal(true);
    expect((await sharp((await fetchBytes(shown.thumbnail)).data).metadata())).to.include({ format: "jpeg", width: 320, height: 240 });
    const route = `${rest.base}/tasks/${created.body.task_id}/proof/photos/0?size=ORIGINAL`;
    expect((await fetchBytes(route, agent.apiKey)).data.equals(photo), "the API route reads the bucket too").to.equal(true);
  });
});
