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

/** How long start-up waits for Redis before going on without it (it keeps reconnecting in the background). */
const STARTUP_WAIT_MS = 5_000;

/**
 * A Redis client that never fails a queued command: a notice published
 * while Redis is away waits for it to come back (ioredis re-subscribes on
 * reconnect), and the outage is logged once, not on every retry.
 */
function redisClient(url: string, log: Logger): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  let healthy = true;
  client.on("ready", () => {
    if (!healthy) log.info("Redis is reachable again; live updates from other replicas are immediate again");
    healthy = true;
  });
  client.on("error", (err: Error) => {
    if (healthy) log.warn({ err: err.message }, "Redis is unreachable; live updates from other replicas arrive at the next poll until it is back");
    healthy = false;
  });
  return client;
}

export async function createClusterBus(redisUrl: string | undefined, log: Logger): Promise<ClusterBus> {
  const clients = redisUrl ? [redisClient(redisUrl, log), redisClient(redisUrl, log)] : [];
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
  if (subscribeClient) await subscribedWithin(subscribeClient, log);

  return {
    announce(position) {
      // Over Redis it goes straight to the client, in the event target's wire format (JSON), so a publish that fails during an outage is caught.
      if (publishClient) publishClient.publish(LOG_ADVANCED, JSON.stringify({ position })).catch(() => undefined);
      else pubSub.publish(LOG_ADVANCED, { position });
    },
    onAnnouncement(listener) {
      listeners.push(listener);
    },
    async close() {
      await subscription.return();
      await consuming;
      // quit() waits for Redis to answer, which it may not; disconnect() does not.
      await Promise.all(clients.map(async (client) => (client.status === "ready" ? client.quit().catch(() => client.disconnect()) : client.disconnect())));
    },
  };
}

async function subscribedWithin(client: Redis, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), STARTUP_WAIT_MS)));
  const subscribed = client.subscribe(LOG_ADVANCED).then(
    () => "subscribed" as const,
    () => "late" as const,
  );
  const outcome = await Promise.race([subscribed, late]);
  clearTimeout(timer);
  if (outcome === "late") log.warn(`Redis did not answer within ${STARTUP_WAIT_MS} ms; starting without it, live updates from other replicas wait for the next poll until it does`);
}
