import Redis from "ioredis";
import { createPubSub, SlidingBuffer } from "@graphql-yoga/subscription";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { Logger } from "../common/logger";

const LOG_ADVANCED = "humanops:task-events:advanced";

type BusTopics = { [LOG_ADVANCED]: [{ position: string }] };

/**
 * Carries "the task event log has advanced to id N" between replicas: over
 * Redis when REDIS_URL is set, in-process otherwise (one process has no one
 * else to tell). The events themselves are read from the database by each
 * replica's relay, so a lost or late notice costs at most one poll interval,
 * never an event.
 */
export interface ClusterBus {
  announce(position: string): void;
  onAnnouncement(listener: (position: string) => void): void;
  close(): Promise<void>;
}

export async function createClusterBus(redisUrl: string | undefined, log: Logger): Promise<ClusterBus> {
  const clients = redisUrl ? [new Redis(redisUrl, { lazyConnect: true }), new Redis(redisUrl, { lazyConnect: true })] : [];
  for (const client of clients) {
    client.on("error", (err: Error) => log.warn({ err: err.message }, "Redis connection problem; live updates from other replicas wait for the next poll"));
    await client.connect();
  }
  const [publishClient, subscribeClient] = clients;
  const pubSub = createPubSub<BusTopics>({
    eventTarget: publishClient ? createRedisEventTarget({ publishClient, subscribeClient }) : undefined,
    // One consumer per process that only needs the newest notice: older ones are dropped, never queued without bound.
    repeaterBuffer: new SlidingBuffer(1),
  });
  const subscription = pubSub.subscribe(LOG_ADVANCED);
  const listeners: Array<(position: string) => void> = [];
  const consuming = (async () => {
    for await (const notice of subscription) for (const listener of listeners) listener(notice.position);
  })();
  // The first pull registers the listener; confirming the SUBSCRIBE means no notice sent after start-up is missed.
  await new Promise((resolve) => setImmediate(resolve));
  if (subscribeClient) await subscribeClient.subscribe(LOG_ADVANCED);

  return {
    announce(position) {
      pubSub.publish(LOG_ADVANCED, { position });
    },
    onAnnouncement(listener) {
      listeners.push(listener);
    },
    async close() {
      await subscription.return();
      await consuming;
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
