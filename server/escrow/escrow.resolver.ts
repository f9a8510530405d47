import { partsRead } from "../tasks/task-parts";
import { Ctx, Field, FieldResolver, Int, ObjectType, Resolver, Root, registerEnumType } from "type-graphql";
import type { Context } from "../graphql/context";
import { Money } from "../graphql/money.type";
import { Task } from "../tasks/task.entity";
import { EscrowViewStatus } from "./escrow.service";

registerEnumType(EscrowViewStatus, {
  name: "EscrowStatus",
  description:
    "FUNDING (funding transaction queued or in flight) → FUNDED → RELEASING → RELEASED, or → REFUNDING → REFUNDED; UNFUNDED: the task ended before its escrow was funded, nothing left the funding wallet",
});

/** A task's USDC escrow in TaskEscrow, as anyone may check it on chain. */
@ObjectType()
export class TaskEscrow {
  @Field(() => EscrowViewStatus)
  status!: EscrowViewStatus;

  @Field(() => Int, { description: "8453 Base, 84532 Base Sepolia, 31337 a local development chain" })
  chainId!: number;

  @Field(() => String, { description: "base, base-sepolia or local" })
  network!: string;

  @Field(() => String, { description: "The TaskEscrow contract" })
  contract!: string;

  @Field(() => String, { description: "The task's bytes32 id in TaskEscrow (escrowOf, verifyTerms)" })
  chainTaskId!: string;

  @Field(() => String, { description: "terms.funder: the platform's funding wallet, which any refund returns to" })
  funder!: string;

  @Field(() => Money, { description: "terms.amount: reward + fee" })
  amount!: Money;

  @Field(() => Date, { description: "terms.deadline + terms.gracePeriod: from then on anyone can return the money to the funder" })
  reclaimableAt!: Date;

  @Field(() => String, { nullable: true })
  fundTxHash?: string;

  @Field(() => String, { nullable: true })
  releaseTxHash?: string;

  @Field(() => String, { nullable: true })
  refundTxHash?: string;

  @Field(() => String, { nullable: true, description: "Who the release paid: the operator's payout address" })
  payee?: string;

  @Field(() => String, {
    nullable: true,
    description: "Basescan page of the escrow's latest transaction (the release or refund once there is one, else the funding); null on a local chain, which has no explorer",
  })
  basescanUrl?: string;
}

@Resolver(() => Task)
export class EscrowResolver {
  @FieldResolver(() => TaskEscrow, { nullable: true, description: "The task's on-chain escrow; null only for a task posted before settlement moved on chain and not yet given one" })
  async escrow(@Root() task: Task, @Ctx() ctx: Context): Promise<TaskEscrow | null> {
    const read = partsRead(ctx.em, task.id);
    const snapshot = read ? read.escrow && ctx.services.escrow.snapshotOf(read.escrow, read.settling) : await ctx.services.escrow.snapshot(ctx.em, task.id);
    if (!snapshot) return null;
    const { escrow, chain, status } = snapshot;
    const latest = escrow.releaseTxHash ?? escrow.refundTxHash ?? escrow.fundTxHash;
    return Object.assign(new TaskEscrow(), {
      status,
      chainId: escrow.chainId,
      network: chain?.network ?? `chain-${escrow.chainId}`,
      contract: escrow.contract,
      chainTaskId: escrow.chainTaskId,
      funder: escrow.funder,
      amount: Money.of(escrow.amount),
      reclaimableAt: new Date(Number(escrow.deadline + BigInt(escrow.gracePeriod)) * 1000),
      fundTxHash: escrow.fundTxHash,
      releaseTxHash: escrow.releaseTxHash,
      refundTxHash: escrow.refundTxHash,
      payee: escrow.payee,
      basescanUrl: chain?.txUrl(latest) ?? undefined,
    });
  }
}
