import { Arg, Ctx, Float, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context";
import { metresBetween } from "../common/geo";
import { Verification } from "../guardian/verification.entity";
import { PhotoSize } from "../photos/photo.links";
import { PhotoService } from "../photos/photo.service";
import { Proof, ProofPhoto } from "./proof.entity";
import { listOf } from "../graphql/query-budget";
import { MAX_PHOTOS_PER_PROOF } from "../tasks/task.limits";
import { photosRead, proofRead } from "../tasks/task-parts";
import type { Task } from "../tasks/task.entity";

@Resolver(() => Proof)
export class ProofResolver {
  @FieldResolver(() => [ProofPhoto], { description: `The photos, in upload order: at most MAX_PHOTOS_PER_PROOF (${MAX_PHOTOS_PER_PROOF} at most).`, complexity: listOf(MAX_PHOTOS_PER_PROOF) })
  async photos(@Root() proof: Proof, @Ctx() ctx: Context): Promise<ProofPhoto[]> {
    return photosRead(ctx.em, proof.id) ?? ctx.em.find(ProofPhoto, { proof: proof.id }, { orderBy: { position: "asc" } });
  }

  @FieldResolver(() => Verification, { nullable: true, description: "The Guardian's score of this submission" })
  async verification(@Root() proof: Proof, @Ctx() ctx: Context): Promise<Verification | null> {
    return ctx.em.findOne(Verification, { proof: proof.id });
  }
}

/** A photo's proof and task: as the request's full read of the task took them, or read now. */
async function proofWithTask(ctx: Context, photo: ProofPhoto): Promise<{ proof: Proof; task: Task }> {
  const read = proofRead(ctx.em, photo.proof.id);
  if (read) return read;
  const proof = await ctx.em.findOneOrFail(Proof, photo.proof.id, { populate: ["task"] });
  return { proof, task: proof.task };
}

@Resolver(() => ProofPhoto)
export class ProofPhotoResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description:
      "A short-lived URL of the photo in this size (a signed capability, valid for PHOTO_URL_TTL_SECONDS, at most 15 minutes; presigned by the bucket when photos are in S3), " +
      "for clients that cannot send a key. Only the task's agent, the operator who submitted the proof and platform admins get one; null for anyone else, and for DISPLAY/THUMBNAIL of a photo that does not decode",
  })
  async url(@Root() photo: ProofPhoto, @Arg("size", () => PhotoSize, { defaultValue: PhotoSize.DISPLAY }) size: PhotoSize, @Ctx() ctx: Context): Promise<string | null> {
    const { proof, task } = await proofWithTask(ctx, photo);
    // The platform's admins see the proof of the disputes they decide.
    if (!ctx.admin && !PhotoService.mayView(ctx.principal, task, proof)) return null;
    return ctx.services.photos.url(photo, { taskId: task.id, attempt: proof.attempt, position: photo.position }, size);
  }

  @FieldResolver(() => Float, { nullable: true, description: "Metres from the task's location to where the photo's EXIF GPS says it was taken; null without GPS" })
  async distanceFromTaskM(@Root() photo: ProofPhoto, @Ctx() ctx: Context): Promise<number | null> {
    if (photo.latitude == null || photo.longitude == null) return null;
    const { task } = await proofWithTask(ctx, photo);
    return Math.round(metresBetween(task, { lat: photo.latitude, lng: photo.longitude }));
  }
}
