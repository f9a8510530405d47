import { Field, InputType } from "type-graphql";
import { MESSAGE_LIMITS } from "../api/limits";
import { PhotoInput } from "../tasks/task.input";

@InputType({ description: "A message: text, photos, or both" })
export class SendMessageInput {
  @Field(() => String, { nullable: true, description: `Up to ${MESSAGE_LIMITS.textChars} characters` })
  text?: string;

  @Field(() => [PhotoInput], { nullable: true, description: `0 to ${MESSAGE_LIMITS.photos} photos (JPEG, PNG or WebP), checked and stored as proof photos are` })
  photos?: PhotoInput[];
}
