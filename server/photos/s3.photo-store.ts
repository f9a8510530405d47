import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Em } from "../db/orm";
import type { PhotoStore } from "./photo.store";

export interface S3Settings {
  /** Unset for AWS itself; the server's URL for any other S3-compatible store (MinIO, R2, ...). */
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** bucket in the path (http://host/bucket/key) instead of the host name: most self-hosted servers need it. */
  forcePathStyle: boolean;
}

/** Photos as objects of an S3-compatible bucket; clients download them with presigned URLs. */
export class S3PhotoStore implements PhotoStore {
  readonly kind = "s3";
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.accessKeyId && settings.secretAccessKey ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
      // Checksums only where the API requires them: older S3-compatible servers refuse the newer checksum headers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(_em: Em, key: string, data: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: data, ContentType: contentType }));
  }

  async get(_em: Em, key: string): Promise<Buffer | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return undefined;
      throw err;
    }
  }

  async delete(_em: Em, keys: string[]): Promise<void> {
    // One request per key: the batch call needs a Content-MD5 that older S3-compatible servers insist on and the SDK no longer sends.
    await Promise.all(keys.map((Key) => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key }))));
  }

  presign(key: string, contentType: string, ttlSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, ResponseContentType: contentType }), { expiresIn: ttlSeconds });
  }

  close(): void {
    this.client.destroy();
  }
}
