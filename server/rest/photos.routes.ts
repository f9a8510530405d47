import { UnauthenticatedError, ValidationError } from "../common/errors";
import { Proof } from "../proofs/proof.entity";
import { PhotoSize, VARIANT_OF } from "../photos/photo.links";
import { ACCEPTED_PHOTO_TYPES } from "../photos/photo.decoder";
import type { RestResource } from "./openapi";
import { errors } from "./rest.route";

const binary = { schema: { type: "string", format: "binary" } };

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
          parameters: [
            { name: "size", in: "query", description: "ORIGINAL (as uploaded, EXIF included), DISPLAY (JPEG, long edge ≤ 1600 px, no metadata) or THUMBNAIL (≤ 320 px)", schema: { type: "string", enum: Object.values(PhotoSize), default: PhotoSize.DISPLAY } },
            { name: "attempt", in: "query", description: "Which submission (1 for the first); default the latest", schema: { type: "integer", minimum: 1 } },
            { name: "expires", in: "query", description: "Signed URLs only: Unix time the URL expires", schema: { type: "integer", minimum: 0 } },
            { name: "signature", in: "query", description: "Signed URLs only: HMAC of the route and `expires`", schema: { type: "string", maxLength: 64 } },
          ],
          responses: {
            "200": { description: "The photo's bytes", content: Object.fromEntries(ACCEPTED_PHOTO_TYPES.map((type) => [type, binary])) },
            ...errors(403, 404),
          },
        },
        async handle({ ctx, params, query }) {
          if (!/^\d{1,2}$/.test(params.n)) throw new ValidationError("n", "must be a photo position, 0 for the first");
          const size = query.size as PhotoSize;
          const signed = query.signature !== undefined || query.expires !== undefined;
          if (!signed && !ctx.principal) throw ctx.authError ?? new UnauthenticatedError();
          const attempt = (query.attempt as number | undefined) ?? (await ctx.em.findOne(Proof, { task: params.id }, { orderBy: { attempt: "desc" } }))?.attempt ?? 1;
          const address = { taskId: params.id, attempt, position: Number(params.n) };
          const photos = ctx.services.photos;
          if (signed) photos.links.verify(address, size, Number(query.expires ?? 0), String(query.signature ?? ""));
          const photo = await photos.find(ctx.em, { principal: ctx.principal, signed }, address);
          const bytes = await photos.read(ctx.em, photo, VARIANT_OF[size]);
          if (!bytes) throw new ValidationError("size", `${size} does not exist for this photo: it did not decode, so only ORIGINAL is kept`);
          return { status: 200, body: undefined, file: { ...bytes, cacheSeconds: signed ? photos.links.ttlSeconds : 0 } };
        },
      },
    ],
  };
}
