import { Field, Float, InputType, Int, registerEnumType } from "type-graphql";
import { UsdAmountScalar } from "../graphql/scalars";
import { TaskStatus, TaskType, TestScenario } from "./task.enums";
import { ReviewDecision } from "../api/enums";

export { ReviewDecision };

@InputType()
export class LocationInput {
  @Field(() => Float, { description: "Latitude, -90 to 90" })
  lat!: number;

  @Field(() => Float, { description: "Longitude, -180 to 180" })
  lng!: number;

  @Field(() => String, { nullable: true })
  address?: string;
}

@InputType()
export class PostTaskInput {
  @Field(() => String, { description: "At most 200 characters" })
  title!: string;

  @Field(() => String, { description: "What the operator must do, at most 5000 characters" })
  description!: string;

  @Field(() => TaskType)
  taskType!: TaskType;

  @Field(() => LocationInput)
  location!: LocationInput;

  @Field(() => UsdAmountScalar, { description: "What the operator is paid, in USD (USDC). The platform fee is added on top." })
  rewardUsd!: string;

  @Field(() => Date, { description: "When the task expires (ISO-8601), at least a minute ahead" })
  deadline!: Date;

  @Field(() => [String], { nullable: true, description: "What the proof must show, e.g. \"4 photos (one per corner)\"" })
  proofRequirements?: string[];

  @Field(() => Int, { nullable: true, description: "Proof submissions allowed (1-10, default 3)" })
  maxAttempts?: number;

  @Field(() => Int, {
    nullable: true,
    description: "Minutes the accepting operator may hold the task without proof before it is offered to others again (5-10080, default 120); never past the deadline",
  })
  acceptWindowMinutes?: number;

  @Field(() => Int, { nullable: true, description: "Only operators with at least this many completed (PAID) tasks may accept (0-10000); default none" })
  minCompletedTasks?: number;

  @Field(() => Float, { nullable: true, description: "Only operators whose average rating from agents is at least this (1-5) may accept; an operator nobody has rated does not qualify. Default none" })
  minRating?: number;

  @Field(() => TestScenario, { nullable: true, description: "Test keys only: the branch the mock operator walks (default APPROVE)" })
  testScenario?: TestScenario;

  @Field(() => String, { nullable: true, description: "Retrying with the same key returns the first task instead of posting twice" })
  idempotencyKey?: string;

  @Field(() => String, { nullable: true, description: "A webhook URL for this task's events only (https; live mode needs a public address)" })
  callbackUrl?: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Required with callbackUrl: the secret its deliveries are signed with. whsec_ and the base64 of 24-64 random bytes signs the Standard Webhooks way; any other 24-256 characters, the deprecated HumanOps-Signature way",
  })
  callbackSecret?: string;

  @Field(() => Int, {
    nullable: true,
    description: "Minutes the release waits after VERIFIED, during which you may dispute the proof (5-10080; default none: released at once); never past the escrow's release window",
  })
  reviewWindowMinutes?: number;
  @Field(() => String, {
    nullable: true,
    description: "An x402 v2 payment for reward + fee from the agent's own wallet (the PAYMENT-SIGNATURE value, base64), used instead of the balance; the requirements come with INSUFFICIENT_FUNDS (extensions.details.x402)",
  })
  x402Payment?: string;
}

@InputType()
export class TaskFilter {
  @Field(() => TaskStatus, { nullable: true })
  status?: TaskStatus;

  @Field(() => TaskType, { nullable: true })
  taskType?: TaskType;
}

@InputType()
export class GeoPointInput {
  @Field(() => Float)
  lat!: number;

  @Field(() => Float)
  lng!: number;
}

@InputType({ description: "A photo: inline as base64, or a file part of the same request (REST multipart uploads); exactly one of the two" })
export class PhotoInput {
  @Field(() => String, { nullable: true, description: "The image bytes (JPEG, PNG or WebP), base64-encoded" })
  dataBase64?: string;

  @Field(() => String, { nullable: true, description: "The name of a file the transport received with this request (REST multipart: photos.0, photos.1, ...), sent without base64" })
  upload?: string;

  @Field(() => String, { nullable: true })
  contentType?: string;

  @Field(() => String, { nullable: true })
  filename?: string;
}

@InputType()
export class SubmitProofInput {
  @Field(() => [PhotoInput], { description: "1 to 10 photos" })
  photos!: PhotoInput[];

  @Field(() => String, { nullable: true })
  notes?: string;
}

registerEnumType(ReviewDecision, { name: "ReviewDecision" });
