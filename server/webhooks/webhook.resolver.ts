import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { ValidationError } from "../common/errors";
import type { Context } from "../graphql/context";
import { requireAgent } from "../graphql/auth";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { WebhookAttempt, WebhookDelivery } from "./webhook-delivery.entity";
import { CreateWebhookEndpointInput, RotateWebhookEndpointSecretInput, UpdateWebhookEndpointInput, WebhookDeliveryFilter } from "./webhook.input";
import { CreateWebhookEndpointPayload, RotateWebhookEndpointSecretPayload, WebhookDeliveryConnection } from "./webhook.types";
import { WEBHOOK_EVENT_TYPES } from "./webhook.events";
import { BUDGET_NOTE, listOf, pagedCost } from "../graphql/query-budget";

const MAX_PAGE = 100;
/** A delivery retried for days, and redelivered, can gather many attempts; a page of deliveries shows this many of each. */
const MAX_ATTEMPTS_SHOWN = 50;

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  @Query(() => [String], { description: "Every event type an endpoint can subscribe to" })
  webhookEventTypes(): string[] {
    return [...WEBHOOK_EVENT_TYPES];
  }

  @Mutation(() => CreateWebhookEndpointPayload, { description: "Register a URL to receive signed task events; the signing secret is returned once" })
  async createWebhookEndpoint(
    @Arg("input", () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
    @Ctx() ctx: Context,
  ): Promise<CreateWebhookEndpointPayload> {
    return ctx.services.webhooks.create(ctx.em, requireAgent(ctx), input);
  }

  @Query(() => [WebhookEndpoint], { description: "The agent's endpoints in the key's mode, newest first (tasks' callback URLs included)" })
  async webhookEndpoints(@Ctx() ctx: Context): Promise<WebhookEndpoint[]> {
    return ctx.services.webhooks.list(ctx.em, requireAgent(ctx));
  }

  @Query(() => WebhookEndpoint)
  async webhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<WebhookEndpoint> {
    return ctx.services.webhooks.get(ctx.em, requireAgent(ctx), id);
  }

  @Mutation(() => WebhookEndpoint, { description: "Change an endpoint; enabled: true re-enables one that was disabled after persistent failure" })
  async updateWebhookEndpoint(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookEndpoint> {
    return ctx.services.webhooks.update(ctx.em, requireAgent(ctx), id, input);
  }

  @Mutation(() => RotateWebhookEndpointSecretPayload, {
    description:
      "Replace an endpoint's signing secret (the new one is returned once) and move it to STANDARD signatures; until previousSecretExpiresAt every delivery is signed with both secrets",
  })
  async rotateWebhookEndpointSecret(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => RotateWebhookEndpointSecretInput, { nullable: true }) input: RotateWebhookEndpointSecretInput | undefined,
    @Ctx() ctx: Context,
  ): Promise<RotateWebhookEndpointSecretPayload> {
    return ctx.services.webhooks.rotateSecret(ctx.em, requireAgent(ctx), id, input ?? {});
  }

  @Mutation(() => ID, { description: "Delete an endpoint and its delivery log; returns its id" })
  async deleteWebhookEndpoint(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return ctx.services.webhooks.delete(ctx.em, requireAgent(ctx), id);
  }
}

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @Query(() => WebhookDeliveryConnection, { description: `The delivery log, newest first, in pages of \`first\` (1 to 100). ${BUDGET_NOTE}`, complexity: pagedCost })
  async webhookDeliveries(
    @Ctx() ctx: Context,
    @Arg("filter", () => WebhookDeliveryFilter, { nullable: true }) filter?: WebhookDeliveryFilter,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number = 20,
    @Arg("after", () => ID, { nullable: true, description: "pageInfo.endCursor of the previous page" }) after?: string,
  ): Promise<WebhookDeliveryConnection> {
    const principal = requireAgent(ctx);
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be from 1 to ${MAX_PAGE}`);
    const page = await ctx.services.webhooks.deliveries(ctx.em, principal, filter ?? {}, first, after ?? undefined);
    const last = page.nodes[page.nodes.length - 1];
    return { nodes: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: last?.id } };
  }

  @Query(() => WebhookDelivery)
  async webhookDelivery(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<WebhookDelivery> {
    return ctx.services.webhooks.delivery(ctx.em, requireAgent(ctx), id);
  }

  @Mutation(() => WebhookDelivery, { description: "Send a delivery again now, under the same event id (receivers de-duplicate by it)" })
  async redeliverWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<WebhookDelivery> {
    return ctx.services.webhooks.redeliver(ctx.em, requireAgent(ctx), id);
  }

  @FieldResolver(() => [WebhookAttempt], { description: `The latest ${MAX_ATTEMPTS_SHOWN} HTTP attempts, oldest first`, complexity: listOf(MAX_ATTEMPTS_SHOWN) })
  async attemptLog(@Root() delivery: WebhookDelivery, @Ctx() ctx: Context): Promise<WebhookAttempt[]> {
    return ctx.services.webhooks.attempts(ctx.em, delivery.id, MAX_ATTEMPTS_SHOWN);
  }
}
