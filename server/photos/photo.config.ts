import path from "node:path";
import { z } from "zod";
import { envInt as int, envProblems } from "../common/env";
import { Secret } from "../kyc/kyc.config";
import type { PhotoStoreKind } from "./photo.store";

/** Where proof photos are kept, how much decoding a proof may cost, and how long a photo URL lives. */
export interface PhotoSettings {
  store: PhotoStoreKind;
  /** PHOTO_STORE=directory: the folder. */
  directory: string;
  /** The directory is a mount every replica shares (a replicated deployment needs this to use a directory). */
  directoryShared: boolean;
  /** PHOTO_STORE=s3. */
  s3?: { endpoint?: string; bucket: string; region: string; accessKeyId?: string; secretAccessKey?: Secret; forcePathStyle: boolean };
  /** The pixels (in millions) all photos of one proof may add up to, read from their headers before anything is decoded. */
  decodeBudgetMegapixels: number;
  /** Lifetime of a signed photo URL, at most 15 minutes. */
  urlTtlSeconds: number;
  /** Photos per job of the background photo jobs: legacy photos moved into the store, old photos hashed again. */
  moveBatch: number;
  /** The origin clients reach this server at (photo URLs are built on it); unset: the address it listens on. */
  publicUrl?: string;
}

const flag = z.enum(["true", "false"], { error: "must be true or false" });

const PhotoEnv = z.object({
  PHOTO_STORE: z.enum(["database", "directory", "s3"], { error: "must be database, directory or s3" }).default("directory"),
  PHOTO_DIRECTORY: z.string().min(1).default("./data/photos"),
  PHOTO_DIRECTORY_SHARED: flag.default("false"),
  PHOTO_DECODE_BUDGET_MEGAPIXELS: int(1, 2_000).default(150),
  PHOTO_URL_TTL_SECONDS: int(10, 900).default(600),
  PHOTO_MOVE_BATCH: int(1, 1_000).default(50),
  S3_ENDPOINT: z.string().regex(/^https?:\/\/[^\s/]+\/?$/, "must be an http(s):// origin, e.g. https://minio.example.com:9000").optional(),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)").optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: flag.default("false"),
  PUBLIC_URL: z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, "must be an http(s):// URL without a query, e.g. https://api.humanops.io").optional(),
  REDIS_URL: z.string().optional(),
});

export function parsePhotoSettings(env: NodeJS.ProcessEnv): { settings?: PhotoSettings; problems: string[] } {
  const parsed = PhotoEnv.safeParse(env);
  if (!parsed.success) return { problems: envProblems(parsed.error) };
  const e = parsed.data;
  const problems: string[] = [];
  if (e.PHOTO_STORE === "s3" && !e.S3_BUCKET) problems.push("S3_BUCKET: is required when PHOTO_STORE=s3");
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) problems.push("S3_ACCESS_KEY_ID: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together");
  if (e.PHOTO_STORE === "directory" && e.REDIS_URL && e.PHOTO_DIRECTORY_SHARED !== "true") {
    problems.push(
      "PHOTO_STORE: a photo directory is local to one machine, and REDIS_URL means several replicas that must all see every photo: " +
        "use PHOTO_STORE=s3 or PHOTO_STORE=database, or set PHOTO_DIRECTORY_SHARED=true if PHOTO_DIRECTORY is a mount every replica shares",
    );
  }
  if (problems.length) return { problems };
  return {
    problems,
    settings: {
      store: e.PHOTO_STORE,
      directory: path.resolve(e.PHOTO_DIRECTORY),
      directoryShared: e.PHOTO_DIRECTORY_SHARED === "true",
      s3: e.S3_BUCKET
        ? {
            endpoint: e.S3_ENDPOINT,
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            accessKeyId: e.S3_ACCESS_KEY_ID,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY ? new Secret(e.S3_SECRET_ACCESS_KEY) : undefined,
            forcePathStyle: e.S3_FORCE_PATH_STYLE === "true",
          }
        : undefined,
      decodeBudgetMegapixels: e.PHOTO_DECODE_BUDGET_MEGAPIXELS,
      urlTtlSeconds: e.PHOTO_URL_TTL_SECONDS,
      moveBatch: e.PHOTO_MOVE_BATCH,
      publicUrl: e.PUBLIC_URL,
    },
  };
}
