import { Entity, Enum, Property, Unique } from "@mikro-orm/core";
import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";
import { KycStatus, KycView } from "../api/enums";

export { KycStatus, KycView };



registerEnumType(KycView, {
  name: "KycStatus",
  description: "Identity verification (KYC) as it applies to the key asking: live keys need APPROVED to accept tasks; test keys need none (NOT_REQUIRED)",
  valuesConfig: {
    PENDING: { description: "Not verified yet (or resubmission asked for): live tasks cannot be accepted" },
    APPROVED: { description: "Verified: live tasks can be accepted" },
    REJECTED: { description: "Finally rejected: live tasks cannot be accepted" },
    NOT_REQUIRED: { description: "Test key: test tasks need no identity verification" },
  },
});

/** A human who accepts tasks, submits proof and is paid to a Base address. */
@ObjectType()
@Entity({ tableName: "operators" })
export class Operator extends BaseEntity {
  @Field(() => String)
  @Property({ type: "string", length: 200 })
  name: string;

  @Unique()
  @Property({ type: "string", length: 320 })
  email: string;

  @Field(() => String, { description: "EIP-55 checksummed Base address the operator is paid to" })
  @Property({ type: "string", length: 42 })
  payoutAddress: string;

  /** Shown through OperatorResolver.kycStatus, as it applies to the key asking. */
  @Enum({ items: () => KycStatus, default: KycStatus.PENDING })
  kycStatus: KycStatus = KycStatus.PENDING;

  /** The built-in operator that completes test-mode tasks. */
  @Property({ type: "boolean", default: false })
  isMock: boolean = false;

  @Field(() => Int, { description: "Accepted tasks this operator gave back (releaseTask) for others to take" })
  @Property({ type: "integer", default: 0 })
  tasksReleased: number = 0;

  @Field(() => Int, { description: "Accepted tasks taken back from this operator because no proof came within the task's accept window" })
  @Property({ type: "integer", default: 0 })
  reservationsLapsed: number = 0;

  constructor(name: string, email: string, payoutAddress: string) {
    super();
    this.name = name;
    this.email = email;
    this.payoutAddress = payoutAddress;
  }
}
