import type { Em } from "../db/orm";
import { ValidationError } from "../common/errors";
import { Dispute } from "./dispute.entity";
import type { DisputeStatus } from "./dispute.enums";

export interface DisputePage {
  nodes: Dispute[];
  hasNextPage: boolean;
  endCursor?: string;
}

function encodeCursor(dispute: Dispute): string {
  return Buffer.from(`${dispute.createdAt.getTime()}:${dispute.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [millis, id] = Buffer.from(cursor, "base64url").toString().split(":");
  const createdAt = new Date(Number(millis));
  if (!id || Number.isNaN(createdAt.getTime())) throw new ValidationError("after", "is not a cursor returned by this API");
  return { createdAt, id };
}

/** The disputes as the platform's admins see them: oldest first, so the longest-waiting is decided first. */
export class DisputeService {
  async list(em: Em, status: DisputeStatus | undefined, first: number, after?: string): Promise<DisputePage> {
    const where: Record<string, unknown> = status ? { status } : {};
    if (after) {
      const cursor = decodeCursor(after);
      where.$or = [{ createdAt: { $gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { $gt: cursor.id } }];
    }
    const rows = await em.find(Dispute, where, { orderBy: [{ createdAt: "asc" }, { id: "asc" }], limit: first + 1, populate: ["task", "decidedBy"] });
    const nodes = rows.slice(0, first);
    return { nodes, hasNextPage: rows.length > first, endCursor: nodes.length ? encodeCursor(nodes[nodes.length - 1]) : undefined };
  }

  /** The dispute of a task, if it has one. */
  async ofTask(em: Em, taskId: string): Promise<Dispute | null> {
    return em.findOne(Dispute, { task: taskId }, { populate: ["decidedBy"] });
  }
}
