import { Arg, Ctx, Field, FieldResolver, InputType, Mutation, ObjectType, Query, Resolver, Root } from "type-graphql";
import { ForbiddenError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { Money } from "../graphql/money.type";
import { Mode } from "../common/mode";
import { Agent } from "./agent.entity";

@InputType()
export class RegisterAgentInput {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  email!: string;
}

@ObjectType()
export class AgentRegistrationPayload {
  @Field(() => Agent)
  agent!: Agent;

  @Field(() => String, { description: "A test-mode key (ho_test_...). Shown once: store it now." })
  apiKey!: string;
}

@Resolver(() => Agent)
export class AgentResolver {
  @Mutation(() => AgentRegistrationPayload, { description: "Create an agent account. Needs no key; returns a test-mode key once." })
  async registerAgent(@Arg("input", () => RegisterAgentInput) input: RegisterAgentInput, @Ctx() ctx: Context): Promise<AgentRegistrationPayload> {
    return ctx.services.agents.register(ctx.em, input);
  }

  @Query(() => Agent, { description: "The agent whose key made this request" })
  async viewerAgent(@Ctx() ctx: Context): Promise<Agent> {
    const principal = requireAgent(ctx);
    return ctx.em.findOneOrFail(Agent, principal.agentId);
  }

  @FieldResolver(() => Mode, { description: "The mode of the key making this request" })
  mode(@Ctx() ctx: Context): Mode {
    return requireAgent(ctx).mode;
  }

  @FieldResolver(() => Money, { description: "Spendable balance in the key's mode (excludes money locked in escrow)" })
  async balance(@Root() agent: Agent, @Ctx() ctx: Context): Promise<Money> {
    const principal = requireAgent(ctx);
    if (principal.agentId !== agent.id) throw new ForbiddenError("an agent's balance is visible to that agent only");
    return Money.of(await ctx.services.agents.balance(ctx.em, agent.id, principal.mode));
  }
}
