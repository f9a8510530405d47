import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
// s3rver ships no types; it is a real S3-compatible HTTP server (signatures, presigned URLs) on loopback.
const S3rver = require("s3rver");

/** A local S3-compatible server for the S3 photo store's tests, with one bucket and s3rver's fixed credentials. */
export interface TestS3 {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startS3(bucket = "humanops-photos"): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "humanops-s3-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as AddressInfo;
  return {
    env: {
      PHOTO_STORE: "s3",
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_BUCKET: bucket,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
