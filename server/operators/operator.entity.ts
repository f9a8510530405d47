import { Entity, Enum, Property, Unique } from "@mikro-orm/core";
import { Field, ObjectType, registerEnumType } from "type-graphql";
import { BaseEntity } from "../common/base.entity";

export enum KycStatus {
  PENDING = "PENDING",
  APPROVED = "APPROVED",
  REJECTED = "REJECTED",
}
registerEnumType(KycStatus, { name: "KycStatus", description: "Identity verification state of an operator" });

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

  @Field(() => KycStatus)
  @Enum({ items: () => KycStatus, default: KycStatus.PENDING })
  kycStatus: KycStatus = KycStatus.PENDING;

  /** The built-in operator that completes test-mode tasks. */
  @Property({ type: "boolean", default: false })
  isMock: boolean = false;

  constructor(name: string, email: string, payoutAddress: string) {
    super();
    this.name = name;
    this.email = email;
    this.payoutAddress = payoutAddress;
  }
}
