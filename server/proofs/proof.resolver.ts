import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../graphql/context";
import { Verification } from "../guardian/verification.entity";
import { Proof, ProofPhoto } from "./proof.entity";
import { listOf } from "../graphql/query-budget";
import { MAX_PHOTOS_PER_PROOF } from "../tasks/task.limits";

@Resolver(() => Proof)
export class ProofResolver {
  @FieldResolver(() => [ProofPhoto], { description: `The photos, in upload order: at most MAX_PHOTOS_PER_PROOF (${MAX_PHOTOS_PER_PROOF} at most).`, complexity: listOf(MAX_PHOTOS_PER_PROOF) })
  async photos(@Root() proof: Proof, @Ctx() ctx: Context): Promise<ProofPhoto[]> {
    return ctx.em.find(ProofPhoto, { proof: proof.id }, { orderBy: { position: "asc" } });
  }

  @FieldResolver(() => Verification, { nullable: true, description: "The Guardian's score of this submission" })
  async verification(@Root() proof: Proof, @Ctx() ctx: Context): Promise<Verification | null> {
    return ctx.em.findOne(Verification, { proof: proof.id });
  }
}
