import { BigIntType, Entity, OneToOne, Property, Unique } from "@mikro-orm/core";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { Operator } from "../operators/operator.entity";

/**
 * An operator's Sumsub applicant and the latest decision heard about it. One
 * per operator, created once by startKyc; webhooks update it together with
 * the operator's kycStatus. `lastEventAtMs` is the Sumsub `createdAtMs` of
 * the newest webhook applied, so a retried or late older webhook cannot undo
 * a newer decision.
 */
@ObjectType("KycVerification", { description: "An operator's identity verification with Sumsub" })
@Entity({ tableName: "kyc_applicants" })
export class KycApplicant extends BaseEntity {
  @OneToOne(() => Operator, { owner: true, unique: true })
  operator: Operator;

  @Field(() => String, { description: "Sumsub's applicant id" })
  @Unique()
  @Property({ type: "string", length: 64 })
  applicantId: string;

  @Field(() => String, { description: "The Sumsub verification level" })
  @Property({ type: "string", length: 200 })
  levelName: string;

  @Field(() => String, { nullable: true, description: "Sumsub's reviewStatus: init, pending, onHold, completed, ..." })
  @Property({ type: "string", length: 40, nullable: true })
  reviewStatus?: string;

  @Field(() => String, { nullable: true, description: "GREEN (approved) or RED (rejected) once reviewed" })
  @Property({ type: "string", length: 10, nullable: true })
  reviewAnswer?: string;

  @Field(() => String, { nullable: true, description: "For RED: FINAL (no resubmission) or RETRY (the operator may resubmit)" })
  @Property({ type: "string", length: 10, nullable: true })
  rejectType?: string;

  @Field(() => String, { nullable: true, description: "Why it was rejected, as the operator may be told (Sumsub's moderationComment or reject labels)" })
  @Property({ type: "text", nullable: true })
  reason?: string;

  @Property({ type: "string", length: 64, nullable: true })
  lastEventType?: string;

  @Property({ type: new BigIntType("number"), nullable: true })
  lastEventAtMs?: number;

  constructor(operator: Operator, applicantId: string, levelName: string) {
    super();
    this.operator = operator;
    this.applicantId = applicantId;
    this.levelName = levelName;
  }
}
