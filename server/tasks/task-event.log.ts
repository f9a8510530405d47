import type { FilterQuery } from "@mikro-orm/core";
import type { Em } from "../db/orm";
import type { Mode } from "../common/mode";
import { TaskEvent } from "./task-event.entity";
import type { ActorType, TaskEventKind, TaskStatus, TaskType } from "./task.enums";

/**
 * A committed task event (a transition, or its escrow being funded) with
 * what subscribers are filtered by (the task's agent, operator, mode and
 * place). `id` is the TaskEvent id: a decimal string, ordered globally.
 */
export interface LiveTaskEvent {
  id: string;
  taskId: string;
  agentId: string;
  operatorId?: string;
  mode: Mode;
  taskType: TaskType;
  lat: number;
  lng: number;
  /** The task's escrow is funded on chain (when the event was read). */
  funded: boolean;
  /** Read with `withEndpoints`: the task's agent had an active webhook endpoint when the event was read. */
  served?: boolean;
  kind: TaskEventKind;
  fromStatus?: TaskStatus;
  toStatus: TaskStatus;
  actorType: ActorType;
  actorId?: string;
  reason?: string;
  createdAt: Date;
}

/** Event ids are bigints in decimal: compare them as numbers, not strings. */
export function compareEventIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function maxEventId(a: string, b: string): string {
  return compareEventIds(a, b) >= 0 ? a : b;
}

/**
 * Committed events matching `where`, in id order, with their tasks' routing
 * facts; with `withEndpoints`, also whether each task's agent has an active
 * webhook endpoint, in the same statement.
 */
export async function readEvents(em: Em, where: FilterQuery<TaskEvent>, limit: number, withEndpoints = false): Promise<LiveTaskEvent[]> {
  const rows = await em.find(TaskEvent, where, { populate: withEndpoints ? ["task", "agentEndpoints"] : ["task"], orderBy: { id: "asc" }, limit });
  return rows.map((row) => ({
    id: String(row.id),
    taskId: row.task.id,
    agentId: row.task.agent.id,
    operatorId: row.task.operator?.id,
    mode: row.task.mode,
    taskType: row.task.taskType,
    lat: row.task.lat,
    lng: row.task.lng,
    funded: row.task.fundedAt != null,
    ...(withEndpoints && { served: Number(row.agentEndpoints) > 0 }),
    kind: row.kind,
    fromStatus: row.fromStatus ?? undefined,
    toStatus: row.toStatus,
    actorType: row.actorType,
    actorId: row.actorId ?? undefined,
    reason: row.reason ?? undefined,
    createdAt: row.createdAt,
  }));
}
