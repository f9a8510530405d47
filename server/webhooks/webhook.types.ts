import { Field, ObjectType } from "type-graphql";
import { PageInfo } from "../tasks/task.types";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { WebhookDelivery } from "./webhook-delivery.entity";

@ObjectType()
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: "The signing secret. Shown once: store it now (deliveries' signatures are computed with it)." })
  secret!: string;
}

@ObjectType()
export class RotateWebhookEndpointSecretPayload {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: "The new signing secret. Shown once: store it now; the replaced one signs too until endpoint.previousSecretExpiresAt." })
  secret!: string;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDelivery])
  nodes!: WebhookDelivery[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
