import { Field, ObjectType } from "type-graphql";
import { formatUsd } from "../common/money";

/** An amount of USDC, exact: `units` are base units (6 decimals), `usd` the same as a decimal string. */
@ObjectType()
export class Money {
  @Field(() => String, { description: "Integer USDC base units (1 USDC = 1000000), as a string" })
  units!: string;

  @Field(() => String, { description: "The amount as a decimal string, e.g. \"15.00\"" })
  usd!: string;

  @Field(() => String)
  currency!: string;

  static of(units: bigint): Money {
    return Object.assign(new Money(), { units: units.toString(), usd: formatUsd(units), currency: "USDC" });
  }
}
