import { Field, ObjectType } from "type-graphql";
import { PageInfo } from "../tasks/task.types";
import { WebhookEndpoint } from "./webhook-endpoint.entity";
import { WebhookDelivery } from "./webhook-delivery.entity";

@ObjectType()
export class CreateWebhookEndpointPayload {
  @Field(() => WebhookEndpoint)
  endpoint!: WebhookEndpoint;

  @Field(() => String, { description: "The signing secret. Shown once: store it now (HumanOps-Signature is computed with it)." })
  secret!: string;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDelivery])
  nodes!: WebhookDelivery[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
