import { Field, Float, Int, ObjectType } from "type-graphql";

/**
 * An operator's record in one mode (test or live), derived each time from
 * the tasks, their events, the Guardian's checks and the agents' ratings:
 * nothing in it is stored or set by hand.
 */
@ObjectType({ description: "An operator's track record in the key's mode, derived from its tasks' events, the Guardian's checks and agents' ratings" })
export class OperatorRecord {
  @Field(() => Int, { description: "Tasks this operator completed and was paid for (PAID)" })
  completedTasks!: number;

  @Field(() => Float, { nullable: true, description: "Of the tasks whose proof was decided, the share (0-1) approved on the first submission; null before any decision" })
  firstAttemptApprovalRate!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: "Of the acceptances that ended with proof, a lapsed reservation or the deadline passing, the share (0-1) that ended with proof in time; null before any",
  })
  onTimeRate!: number | null;

  @Field(() => Int, { description: "Accepted tasks this operator gave back (releaseTask); a withdrawal after the agent changed the task does not count" })
  cancellationsAfterAccepting!: number;

  @Field(() => Int, { description: "Proof submissions with a failed fraud check: a photo reused from another task, taken far from the task's location, or taken before acceptance" })
  fraudCheckFailures!: number;

  @Field(() => Int, { description: "Acceptances that lapsed: no proof within the task's accept window" })
  reservationsLapsed!: number;

  @Field(() => Float, { nullable: true, description: "Mean of agents' ratings (1-5, two decimals); null when nobody has rated this operator" })
  averageRating!: number | null;

  @Field(() => Int, { description: "How many agents' ratings averageRating is of" })
  ratingCount!: number;
}

/** An agent's record in one mode, derived from its tasks' events and operators' ratings. */
@ObjectType({ description: "An agent's track record in the task's mode, derived from its tasks' events and operators' ratings" })
export class AgentRecord {
  @Field(() => Int, { description: "Tasks of this agent that were completed and paid (PAID)" })
  tasksPaid!: number;

  @Field(() => Float, { nullable: true, description: "Of its tasks whose proof was verified, the share (0-1) the agent disputed; null before any verified task" })
  paymentDisputeRate!: number | null;

  @Field(() => Int, { description: "Manual reviews of proof this agent's tasks have had decided" })
  manualReviewsDecided!: number;

  @Field(() => Int, { nullable: true, description: "Mean seconds from proof entering MANUAL_REVIEW to its decision; null before any decision" })
  meanManualReviewSeconds!: number | null;

  @Field(() => Float, { nullable: true, description: "Mean of operators' ratings (1-5, two decimals); null when no operator has rated this agent" })
  averageRating!: number | null;

  @Field(() => Int, { description: "How many operators' ratings averageRating is of" })
  ratingCount!: number;
}
