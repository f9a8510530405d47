import { Arg, Ctx, Field, FieldResolver, ID, Int, ObjectType, Resolver, Root, registerEnumType } from "type-graphql";
import { ForbiddenError, ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { Agent } from "../agents/agent.entity";
import { PageInfo } from "../tasks/task.types";
import { LedgerKind, type LedgerEntry } from "./ledger-entry.entity";
import { Accounts } from "./ledger.service";
import { BUDGET_NOTE, pagedCost } from "../graphql/query-budget";

registerEnumType(LedgerKind, {
  name: "LedgerKind",
  description: "DEPOSIT (test USDC or an on-chain deposit), ESCROW_FUND (posting a task, or raising its reward), REFUND (escrow back to the balance), PAYOUT and FEE (a settled task), TIP (a bonus to the operator of a PAID task)",
});

export enum LedgerDirection {
  CREDIT = "CREDIT",
  DEBIT = "DEBIT",
}
registerEnumType(LedgerDirection, { name: "LedgerDirection", description: "CREDIT adds to the balance, DEBIT takes from it" });

/** One posting that moved the agent's balance. */
@ObjectType()
export class LedgerTransaction {
  @Field(() => ID, { description: "Orders the ledger: a later posting has a larger id" })
  id!: string;

  @Field(() => LedgerKind)
  kind!: LedgerKind;

  @Field(() => LedgerDirection)
  direction!: LedgerDirection;

  @Field(() => Money)
  amount!: Money;

  @Field(() => ID, { nullable: true, description: "The task it was for" })
  taskId?: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class LedgerTransactionConnection {
  @Field(() => [LedgerTransaction])
  nodes!: LedgerTransaction[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

const MAX_PAGE = 100;

@Resolver(() => Agent)
export class LedgerResolver {
  @FieldResolver(() => LedgerTransactionConnection, {
    description: `Postings to and from the balance of the key's mode, newest first, in pages of \`first\` (1 to 100). ${BUDGET_NOTE}`,
    complexity: pagedCost,
  })
  async ledgerTransactions(
    @Root() agent: Agent,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("after", () => String, { nullable: true, description: "Cursor from pageInfo.endCursor" }) after?: string,
  ): Promise<LedgerTransactionConnection> {
    const principal = requireAgent(ctx);
    if (principal.agentId !== agent.id) throw new ForbiddenError("an agent's transactions are visible to that agent only");
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be from 1 to ${MAX_PAGE}`);
    if (after && !/^\d{1,19}$/.test(after)) throw new ValidationError("after", "is not a cursor returned by this API");
    const account = Accounts.agent(agent.id);
    const rows = await ctx.services.ledger.entries(ctx.em, principal.mode, account, first + 1, after ?? undefined);
    const nodes = rows.slice(0, first).map((entry) => toTransaction(entry, account));
    return { nodes, pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.at(-1)?.id } };
  }
}

function toTransaction(entry: LedgerEntry, account: string): LedgerTransaction {
  return Object.assign(new LedgerTransaction(), {
    id: String(entry.id),
    kind: entry.kind,
    direction: entry.toAccount === account ? LedgerDirection.CREDIT : LedgerDirection.DEBIT,
    amount: Money.of(entry.amount),
    taskId: entry.task?.id,
    createdAt: entry.createdAt,
  });
}
