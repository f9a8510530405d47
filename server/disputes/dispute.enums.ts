import { registerEnumType } from "type-graphql";
import { DisputeDecision, DisputeStatus } from "../api/enums";

export { DisputeDecision, DisputeStatus };

registerEnumType(DisputeDecision, { name: "DisputeDecision", description: "RELEASE pays the operator (the task is VERIFIED again, then PAID); REFUND returns reward and fee to the agent (CANCELLED)" });
registerEnumType(DisputeStatus, { name: "DisputeStatus", description: "OPEN: waiting for the platform's decision. DECIDED: released or refunded" });
