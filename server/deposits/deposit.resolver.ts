import { Arg, Ctx, Field, FieldResolver, Int, Mutation, ObjectType, Query, Resolver, Root } from "type-graphql";
import { ForbiddenError, ValidationError } from "../common/errors";
import { Mode } from "../common/mode";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { Agent } from "../agents/agent.entity";
import { AgentWallet, type Deposit } from "./deposit.entity";
import { BUDGET_NOTE, listOf, pagedCost } from "../graphql/query-budget";

/** What the query budget counts an agent's wallet list as: few agents link more than a handful. */
const WALLETS_COSTED = 10;

@ObjectType()
export class WalletLinkChallenge {
  @Field(() => String, { description: "Sign exactly this text with the wallet (EIP-191 personal_sign), then call linkWallet" })
  message!: string;

  @Field(() => Date)
  expiresAt!: Date;
}

@ObjectType()
export class LinkWalletPayload {
  @Field(() => AgentWallet)
  wallet!: AgentWallet;

  @Field(() => String, { nullable: true, description: "The agent's live key (ho_live_...), issued with its first linked wallet. Shown once: store it now." })
  liveApiKey?: string;
}

@ObjectType()
export class DepositAddress {
  @Field(() => String, { description: "Send USDC here from a linked wallet; deposits from other wallets are not credited to you" })
  address!: string;

  @Field(() => Mode, { description: "The balance deposits are credited to (the key's mode)" })
  mode!: Mode;

  @Field(() => Int)
  chainId!: number;

  @Field(() => String, { description: "base, base-sepolia or local" })
  network!: string;

  @Field(() => String, { description: "The USDC token contract; other tokens sent here are not credited" })
  usdc!: string;

  @Field(() => Int, { description: "Blocks (its own included) a deposit waits for before it is credited" })
  confirmations!: number;

  @Field(() => [String], { description: "The caller's linked wallets" })
  linkedWallets!: string[];
}

@ObjectType()
export class CreditedDeposit {
  @Field(() => String)
  txHash!: string;

  @Field(() => String)
  fromAddress!: string;

  @Field(() => Money)
  amount!: Money;

  @Field(() => Int)
  blockNumber!: number;

  @Field(() => Mode)
  mode!: Mode;

  @Field(() => Date)
  creditedAt!: Date;

  static of(deposit: Deposit): CreditedDeposit {
    return Object.assign(new CreditedDeposit(), {
      txHash: deposit.txHash,
      fromAddress: deposit.fromAddress,
      amount: Money.of(deposit.amount),
      blockNumber: deposit.blockNumber,
      mode: deposit.mode,
      creditedAt: deposit.createdAt,
    });
  }
}

@Resolver(() => Agent)
export class DepositResolver {
  @Mutation(() => WalletLinkChallenge, { description: "A one-time message (valid 10 minutes) for a wallet to sign, to link it to this agent" })
  async walletLinkChallenge(@Ctx() ctx: Context): Promise<WalletLinkChallenge> {
    const challenge = await ctx.services.wallets.challenge(ctx.em, requireAgent(ctx));
    return Object.assign(new WalletLinkChallenge(), { message: challenge.message, expiresAt: challenge.expiresAt });
  }

  @Mutation(() => LinkWalletPayload, { description: "Link the wallet that signed the latest challenge; the first link also issues the agent's live key" })
  async linkWallet(@Arg("address", () => String) address: string, @Arg("signature", () => String) signature: string, @Ctx() ctx: Context): Promise<LinkWalletPayload> {
    return Object.assign(new LinkWalletPayload(), await ctx.services.wallets.link(ctx.em, requireAgent(ctx), address, signature));
  }

  @Query(() => DepositAddress, { description: "Where to send USDC to top up the balance of the key's mode" })
  async depositAddress(@Ctx() ctx: Context): Promise<DepositAddress> {
    const principal = requireAgent(ctx);
    const chain = ctx.services.deposits.depositChain(principal);
    const wallets = await ctx.services.wallets.wallets(ctx.em, principal.agentId);
    return Object.assign(new DepositAddress(), {
      address: chain.funder.address,
      mode: principal.mode,
      chainId: chain.id,
      network: chain.network,
      usdc: chain.usdc.address,
      confirmations: chain.confirmations,
      linkedWallets: wallets.map((w) => w.address),
    });
  }

  @Mutation(() => CreditedDeposit, {
    description: "Credit a USDC transfer from a linked wallet to the deposit address now, by its transaction hash (deposits are also credited on their own once confirmed). Each transaction is credited once.",
  })
  async creditDeposit(@Arg("txHash", () => String) txHash: string, @Ctx() ctx: Context): Promise<CreditedDeposit> {
    return CreditedDeposit.of(await ctx.services.deposits.claim(ctx.em, requireAgent(ctx), txHash));
  }

  @FieldResolver(() => [AgentWallet], { description: `Wallets linked to this agent (the query budget counts ${WALLETS_COSTED})`, complexity: listOf(WALLETS_COSTED) })
  async wallets(@Root() agent: Agent, @Ctx() ctx: Context): Promise<AgentWallet[]> {
    if (requireAgent(ctx).agentId !== agent.id) throw new ForbiddenError("an agent's wallets are visible to that agent only");
    return ctx.services.wallets.wallets(ctx.em, agent.id);
  }

  @FieldResolver(() => [CreditedDeposit], { description: `Deposits credited to this agent in the key's mode, newest first, at most \`first\` (1 to 100). ${BUDGET_NOTE}`, complexity: pagedCost })
  async deposits(@Root() agent: Agent, @Ctx() ctx: Context, @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20): Promise<CreditedDeposit[]> {
    const principal = requireAgent(ctx);
    if (principal.agentId !== agent.id) throw new ForbiddenError("an agent's deposits are visible to that agent only");
    if (!Number.isInteger(first) || first < 1 || first > 100) throw new ValidationError("first", "must be from 1 to 100");
    return (await ctx.services.deposits.history(ctx.em, agent.id, principal.mode, first)).map((deposit) => CreditedDeposit.of(deposit));
  }
}
