import { Arg, Ctx, Field, FieldResolver, InputType, Mutation, ObjectType, Query, Resolver, Root } from "type-graphql";
import { ForbiddenError } from "../common/errors";
import { Mode } from "../common/mode";
import type { Context } from "../graphql/context";
import { requireOperator } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { KycView, Operator } from "./operator.entity";

@InputType()
export class RegisterOperatorInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { description: "Base (EVM) address that receives USDC payouts" })
  payoutAddress!: string;
}

@ObjectType()
export class OperatorRegistrationPayload {
  @Field(() => Operator)
  operator!: Operator;

  @Field(() => String, { description: "Key for test tasks (ho_test_...). Shown once." })
  testApiKey!: string;

  @Field(() => String, { description: "Key for live tasks (ho_live_...); accepting needs approved KYC. Shown once." })
  liveApiKey!: string;
}

@Resolver(() => Operator)
export class OperatorResolver {
  @Mutation(() => OperatorRegistrationPayload, { description: "Create an operator account. Needs no key; returns its keys once." })
  async registerOperator(
    @Arg("input", () => RegisterOperatorInput) input: RegisterOperatorInput,
    @Ctx() ctx: Context,
  ): Promise<OperatorRegistrationPayload> {
    return ctx.services.operators.register(ctx.em, input);
  }

  @Query(() => Operator, { description: "The operator whose key made this request" })
  async viewerOperator(@Ctx() ctx: Context): Promise<Operator> {
    return ctx.services.operators.get(ctx.em, requireOperator(ctx).operatorId);
  }

  @FieldResolver(() => KycView, {
    description: "Identity verification as it applies to the key asking: NOT_REQUIRED with a test key; otherwise (and on registration, which answers for live tasks) PENDING, APPROVED or REJECTED",
  })
  kycStatus(@Root() operator: Operator, @Ctx() ctx: Context): KycView {
    return ctx.principal?.mode === Mode.TEST ? KycView.NOT_REQUIRED : operator.kycStatus;
  }

  @FieldResolver(() => Money, { description: "Earnings paid to this operator in the key's mode" })
  async earnings(@Root() operator: Operator, @Ctx() ctx: Context): Promise<Money> {
    const principal = requireOperator(ctx);
    if (principal.operatorId !== operator.id) throw new ForbiddenError("an operator's earnings are visible to that operator only");
    return Money.of(await ctx.services.operators.earnings(ctx.em, operator.id, principal.mode));
  }
}
