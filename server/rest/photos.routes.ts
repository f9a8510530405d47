import type { Context } from "../graphql/context";
import { UnauthenticatedError, ValidationError } from "../common/errors";
import { Proof } from "../proofs/proof.entity";
import { PhotoSize, VARIANT_OF } from "../photos/photo.links";
import { ACCEPTED_PHOTO_TYPES } from "../photos/photo.decoder";
import type { RestResource } from "./openapi";
import { errors, type Parameter } from "./rest.route";

const binary = { schema: { type: "string", format: "binary" } };

/** The query parameters of a photo download: its size, then those of a signed URL. */
export function photoParameters(sizeDescription: string, ...more: Parameter[]): Parameter[] {
  return [
    { name: "size", in: "query", description: sizeDescription, schema: { type: "string", enum: Object.values(PhotoSize), default: PhotoSize.DISPLAY } },
    ...more,
    { name: "expires", in: "query", description: "Signed URLs only: Unix time the URL expires", schema: { type: "integer", minimum: 0 } },
    { name: "signature", in: "query", description: "Signed URLs only: HMAC of the route and `expires`", schema: { type: "string", maxLength: 64 } },
  ];
}

/** A photo download's responses: the bytes in the photo's own type, or the one error shape. */
export const PHOTO_RESPONSES = {
  "200": { description: "The photo's bytes", content: Object.fromEntries(ACCEPTED_PHOTO_TYPES.map((type) => [type, binary])) },
  ...errors(403, 404),
};

/**
 * What every photo download reads first: the position `n`, the size, and
 * whether the URL is signed (a request neither signed nor with a key is 401).
 */
export function photoRequest(ctx: Context, n: string, query: Record<string, unknown>): { position: number; size: PhotoSize; signed: boolean; expires: number; signature: string } {
  if (!/^\d{1,2}$/.test(n)) throw new ValidationError("n", "must be a photo position, 0 for the first");
  const signed = query.signature !== undefined || query.expires !== undefined;
  if (!signed && !ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
  return { position: Number(n), size: query.size as PhotoSize, signed, expires: Number(query.expires ?? 0), signature: typeof query.signature === "string" ? query.signature : "" };
}

/** The download's answer: the bytes (a signed URL's may be cached while it is valid), or 400 for a copy a photo that did not decode lacks. */
export function photoFile(bytes: { data: Buffer; contentType: string } | undefined, size: PhotoSize, signed: boolean, ttlSeconds: number) {
  if (!bytes) throw new ValidationError("size", `${size} does not exist for this photo: it did not decode, so only ORIGINAL is kept`);
  return { status: 200, body: undefined, file: { ...bytes, cacheSeconds: signed ? ttlSeconds : 0 } };
}

/**
 * A proof photo's bytes. Binary, so this route reads the photo through the
 * photo service instead of a GraphQL operation (GraphQL hands out the URLs:
 * ProofPhoto.url); who may see it is the same rule (PhotoService.mayView).
 */
export function photosResource(): RestResource {
  return {
    routes: [
      {
        method: "get",
        path: "/tasks/{id}/proof/photos/{n}",
        operation: {
          operationId: "getProofPhoto",
          summary: "Download a proof photo: the original, the display copy or the thumbnail",
          description:
            "With the API key of the task's agent or of the operator who submitted the proof; anyone else gets 404. " +
            "The `url`, `display_url` and `thumbnail_url` of a task's photos are this route signed (`expires`, `signature`): they open without a key until they expire (at most 15 minutes). " +
            "`n` is the photo's position, 0 for the first.",
          tags: ["Tasks"],
          security: [{ ApiKeyAuth: [] }, {}],
          parameters: photoParameters("ORIGINAL (as uploaded, EXIF included), DISPLAY (JPEG, long edge ≤ 1600 px, no metadata) or THUMBNAIL (≤ 320 px)", {
            name: "attempt",
            in: "query",
            description: "Which submission (1 for the first); default the latest",
            schema: { type: "integer", minimum: 1 },
          }),
          responses: PHOTO_RESPONSES,
        },
        async handle({ ctx, params, query }) {
          const { position, size, signed, expires, signature } = photoRequest(ctx, params.n, query);
          const attempt = (query.attempt as number | undefined) ?? (await ctx.em.findOne(Proof, { task: params.id }, { orderBy: { attempt: "desc" } }))?.attempt ?? 1;
          const address = { taskId: params.id, attempt, position };
          const photos = ctx.services.photos;
          if (signed) photos.links.verify(address, size, expires, signature);
          const photo = await photos.find(ctx.em, { principal: ctx.principal, signed }, address);
          return photoFile(await photos.read(ctx.em, photo, VARIANT_OF[size]), size, signed, photos.links.ttlSeconds);
        },
      },
    ],
  };
}
