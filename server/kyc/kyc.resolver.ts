import { Ctx, Field, FieldResolver, Mutation, ObjectType, Resolver, Root } from "type-graphql";
import { ForbiddenError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireOperator } from "../graphql/auth";
import { KycStatus, KycView, Operator } from "../operators/operator.entity";
import { KycApplicant } from "./kyc-applicant.entity";

@ObjectType({ description: "What the operator's app needs to open Sumsub's WebSDK" })
export class StartKycPayload {
  @Field(() => String, { description: "Sumsub's applicant id (the same on every call)" })
  applicantId!: string;

  @Field(() => String, { description: "A WebSDK access token; a fresh one on every call. Do not log or share it." })
  accessToken!: string;

  @Field(() => Date)
  expiresAt!: Date;

  @Field(() => String)
  levelName!: string;

  @Field(() => KycView)
  kycStatus!: KycStatus;
}

@Resolver(() => Operator)
export class KycResolver {
  @Mutation(() => StartKycPayload, {
    description: "Start or resume identity verification (live keys only; test mode needs no KYC). Creates the Sumsub applicant once and returns a fresh WebSDK token.",
  })
  async startKyc(@Ctx() ctx: Context): Promise<StartKycPayload> {
    const started = await ctx.services.kyc.start(ctx.em, requireOperator(ctx));
    return {
      applicantId: started.applicant.applicantId,
      accessToken: started.accessToken,
      expiresAt: started.expiresAt,
      levelName: started.applicant.levelName,
      kycStatus: started.kycStatus,
    };
  }

  @FieldResolver(() => KycApplicant, { nullable: true, description: "The latest Sumsub review of this operator; null before startKyc" })
  async kyc(@Root() operator: Operator, @Ctx() ctx: Context): Promise<KycApplicant | null> {
    if (requireOperator(ctx).operatorId !== operator.id) throw new ForbiddenError("an operator's verification is visible to that operator only");
    return ctx.services.kyc.applicantOf(ctx.em, operator.id);
  }
}
