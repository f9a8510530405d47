import { Field, ID, InputType } from "type-graphql";
import { WebhookDeliveryStatus } from "./webhook-delivery.entity";
import { WebhookSignatureScheme } from "./webhook.signer";

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => String, { description: "Where deliveries are POSTed: https (live mode requires it) on a public address" })
  url!: string;

  @Field(() => [String], { nullable: true, description: "Event types to deliver (see webhookEventTypes); default task.status_changed, i.e. every transition" })
  eventTypes?: string[];

  @Field(() => String, {
    nullable: true,
    description: "Your own signing secret: for STANDARD whsec_ and the base64 of 24-64 random bytes (LEGACY: 24-256 characters); by default one is generated and returned once",
  })
  secret?: string;

  @Field(() => WebhookSignatureScheme, { nullable: true, description: "How deliveries are signed; default STANDARD (Standard Webhooks). LEGACY is deprecated." })
  signatureScheme?: WebhookSignatureScheme;

  @Field(() => String, { nullable: true })
  description?: string;

  @Field(() => String, { nullable: true, description: "Retrying with the same key returns the first endpoint instead of creating another" })
  idempotencyKey?: string;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => String, { nullable: true })
  url?: string;

  @Field(() => [String], { nullable: true })
  eventTypes?: string[];

  @Field(() => String, { nullable: true })
  description?: string;

  @Field(() => Boolean, { nullable: true, description: "false stops deliveries; true re-enables a disabled endpoint and clears its failure count" })
  enabled?: boolean;
}

@InputType()
export class RotateWebhookEndpointSecretInput {
  @Field(() => String, { nullable: true, description: "The new secret, whsec_ and the base64 of 24-64 random bytes; by default one is generated and returned once" })
  secret?: string;

  @Field(() => Date, {
    nullable: true,
    description: "Until when the replaced secret also signs every delivery: default a day from now, at most 7 days; a past time ends it at once",
  })
  previousSecretExpiresAt?: Date;
}

@InputType()
export class WebhookDeliveryFilter {
  @Field(() => ID, { nullable: true })
  endpointId?: string;

  @Field(() => ID, { nullable: true })
  taskId?: string;

  @Field(() => WebhookDeliveryStatus, { nullable: true })
  status?: WebhookDeliveryStatus;
}
