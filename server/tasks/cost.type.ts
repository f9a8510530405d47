import { Field, Int, ObjectType } from "type-graphql";
import { Money } from "../graphql/money.type";
import type { CostBreakdown } from "./task.service";

@ObjectType({ description: "What posting a task with a given reward costs, worked out before posting" })
export class CostEstimate {
  @Field(() => Money, { description: "Paid to the operator" })
  reward!: Money;

  @Field(() => Money, { description: "Platform fee, charged on top of the reward" })
  fee!: Money;

  @Field(() => Money, { description: "reward + fee: what posting moves from the balance into escrow" })
  total!: Money;

  @Field(() => Int, { description: "The platform fee rate in basis points (100 = 1%)" })
  feeBps!: number;

  static of(cost: CostBreakdown, feeBps: number): CostEstimate {
    return Object.assign(new CostEstimate(), {
      reward: Money.of(cost.rewardUnits),
      fee: Money.of(cost.feeUnits),
      total: Money.of(cost.totalUnits),
      feeBps,
    });
  }
}
