import { createHmac, timingSafeEqual } from "node:crypto";
import { registerEnumType } from "type-graphql";
import { ForbiddenError } from "../common/errors";
import type { PhotoVariant } from "./photo.service";
import { PhotoSize } from "../api/enums";

export { PhotoSize };


registerEnumType(PhotoSize, {
  name: "PhotoSize",
  description: "ORIGINAL: the bytes as uploaded (EXIF included); DISPLAY: upright JPEG, long edge at most 1600 px, no metadata; THUMBNAIL: the same at most 320 px",
});

export const VARIANT_OF: Record<PhotoSize, PhotoVariant> = { ORIGINAL: "original", DISPLAY: "display", THUMBNAIL: "thumbnail" };

/** Which photo of which proof: the stable API route names it so. */
export interface PhotoAddress {
  taskId: string;
  attempt: number;
  position: number;
}

/**
 * Photo URLs. The stable route, GET /api/v1/tasks/{id}/proof/photos/{n}
 * (n is the photo's position, 0 for the first), needs the caller's API key;
 * a signed URL is the same route with `expires` (Unix seconds) and an HMAC
 * of the route and that time in `signature`, so a client that cannot send a
 * key (an <img>, an MCP host) can fetch it until it expires (at most 15
 * minutes). The key is derived from the server's secret pepper; changing the
 * pepper voids every link.
 */
export class PhotoLinks {
  private readonly key: Buffer;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private base?: string,
  ) {
    this.key = createHmac("sha256", secret).update("humanops photo links v1").digest();
  }

  /** The origin URLs are built on when PUBLIC_URL is not set: the address the server listens on. */
  listeningAt(url: string): void {
    this.base ??= url;
  }

  /** The origin photo URLs point at (PUBLIC_URL, or the listening address once known): pages showing them must allow it. */
  get urlOrigin(): string | undefined {
    return this.base && new URL(this.base).origin;
  }

  /** The API route of a photo, relative to the server (path and query). */
  route({ taskId, attempt, position }: PhotoAddress, size: PhotoSize): string {
    return `/api/v1/tasks/${encodeURIComponent(taskId)}/proof/photos/${position}?attempt=${attempt}&size=${size}`;
  }

  /** The stable route as an absolute URL: for webhooks, which are stored and retried for a day; the agent's key opens it. */
  stable(address: PhotoAddress, size: PhotoSize): string {
    return `${this.origin()}${this.route(address, size)}`;
  }

  /** A signed URL of the route, valid for ttlSeconds from `now`. */
  signed(address: PhotoAddress, size: PhotoSize, now = Date.now()): string {
    const route = this.route(address, size);
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    return `${this.origin()}${route}&expires=${expires}&signature=${this.sign(route, expires)}`;
  }

  /** Throws FORBIDDEN unless `signature` signs this route until `expires`, and that time has not passed. */
  verify(address: PhotoAddress, size: PhotoSize, expires: number, signature: string, now = Date.now()): void {
    const expected = Buffer.from(this.sign(this.route(address, size), expires), "hex");
    const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ForbiddenError("signature: does not sign this photo URL");
    if (expires * 1000 <= now) throw new ForbiddenError("expires: this photo URL has expired; ask for the task again for a fresh one");
  }

  /** Any photo route of the API (a message photo's) as an absolute URL: the stable form, opened with a key. */
  stableRoute(route: string): string {
    return `${this.origin()}${route}`;
  }

  /** Any photo route of the API signed as signed() signs a proof photo's: `route` already has a query. */
  signedRoute(route: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + this.ttlSeconds;
    return `${this.origin()}${route}&expires=${expires}&signature=${this.sign(route, expires)}`;
  }

  /** verify() for a route signed by signedRoute(). */
  verifyRoute(route: string, expires: number, signature: string, now = Date.now()): void {
    const expected = Buffer.from(this.sign(route, expires), "hex");
    const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ForbiddenError("signature: does not sign this photo URL");
    if (expires * 1000 <= now) throw new ForbiddenError("expires: this photo URL has expired; read the messages again for a fresh one");
  }

  private sign(route: string, expires: number): string {
    return createHmac("sha256", this.key).update(`GET ${route}&expires=${expires}`).digest("hex");
  }

  private origin(): string {
    if (!this.base) throw new Error("photo URLs are built after the server listens (or set PUBLIC_URL)");
    return this.base.replace(/\/+$/, "");
  }
}
