import { Field, ObjectType } from "type-graphql";
import { PageInfo } from "../tasks/task.types";
import { AdminAuditEntry } from "../admin/admin.entity";
import { Dispute } from "./dispute.entity";

@ObjectType()
export class DisputeConnection {
  @Field(() => [Dispute])
  nodes!: Dispute[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType()
export class AdminAuditConnection {
  @Field(() => [AdminAuditEntry])
  nodes!: AdminAuditEntry[];

  @Field(() => PageInfo, { description: "endCursor: pass as `before` for older entries" })
  pageInfo!: PageInfo;
}
