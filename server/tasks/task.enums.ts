import { registerEnumType } from "type-graphql";
import { ActorType, TaskEventKind, TaskStatus, TaskType, TestScenario } from "../api/enums";

export { ActorType, TaskEventKind, TaskStatus, TaskType, TestScenario };






registerEnumType(TaskStatus, {
  name: "TaskStatus",
  description: "POSTED → ACCEPTED → SUBMITTED → VERIFIED → PAID, with MANUAL_REVIEW, REJECTED, CANCELLED and EXPIRED",
});
registerEnumType(TaskType, { name: "TaskType" });
registerEnumType(TestScenario, { name: "TestScenario", description: "Test mode only: which branch of the lifecycle to walk" });
registerEnumType(ActorType, { name: "ActorType" });
registerEnumType(TaskEventKind, {
  name: "TaskEventKind",
  description:
    "STATUS_CHANGED: the task moved from previousStatus to status. ESCROW_FUNDED: the reward and fee are locked on chain, so operators may now accept the task (it stays POSTED). MESSAGE_POSTED: a message in the task's thread (status unchanged). TASK_CHANGED: the agent changed the task (reason says what); an operator holding it may withdraw without penalty. TIPPED: the agent tipped the operator of a PAID task. TIP_PAID: that tip reached the operator on chain (reason names the transaction). RATED: one side of an ended task rated the other or changed its rating (status unchanged; reason says who and the score, the comment is on the task's ratings)",
});
