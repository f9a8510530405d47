import type { Pruner } from "../jobs/retention";
import { WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus } from "./webhook-delivery.entity";

/**
 * Deliveries delivered more than `ageMs` ago, with their attempts. Pending
 * deliveries stay, and so do failed ones (an agent may still redeliver them).
 */
export function deliveredWebhooks(ageMs: number): Pruner {
  return {
    name: "webhook_deliveries",
    async pruneBatch(em, now, limit) {
      const rows = await em.find(
        WebhookDelivery,
        { status: WebhookDeliveryStatus.DELIVERED, deliveredAt: { $lt: new Date(now - ageMs) } },
        { fields: ["id"], orderBy: { id: "asc" }, limit },
      );
      if (rows.length === 0) return 0;
      const ids = rows.map((row) => row.id);
      await em.transactional(async (tx) => {
        await tx.nativeDelete(WebhookAttempt, { delivery: { $in: ids } });
        await tx.nativeDelete(WebhookDelivery, { id: { $in: ids }, status: WebhookDeliveryStatus.DELIVERED });
      });
      return rows.length;
    },
  };
}
