import { Arg, Ctx, Query, Resolver } from "type-graphql";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { UsdAmountScalar } from "../graphql/scalars";
import { CostEstimate } from "./cost.type";

@Resolver(() => CostEstimate)
export class CostResolver {
  @Query(() => CostEstimate, { description: "What postTask would charge for this reward (same rules and fee); nothing is reserved" })
  estimateCost(@Arg("rewardUsd", () => UsdAmountScalar) rewardUsd: string, @Ctx() ctx: Context): CostEstimate {
    requireAgent(ctx);
    return CostEstimate.of(ctx.services.tasks.estimate(rewardUsd), ctx.services.config.feeBps);
  }
}
