import Redis from "ioredis";
import { createPubSub, SlidingBuffer } from "@graphql-yoga/subscription";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import type { Logger } from "../common/logger";

/** The channel for one deployment (server/db/deployment.entity.ts): deployments sharing a Redis never hear each other. */
const logAdvanced = (deploymentId: string) => `humanops:${deploymentId}:task-events:advanced` as const;
const keyRevoked = (deploymentId: string) => `humanops:${deploymentId}:api-keys:revoked` as const;

type BusTopics = Record<string, [{ position: string }]>;

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
  /**
   * Tells every replica that an API key was revoked, so each stops trusting
   * the caller it cached for it (server/agents/caller-cache.ts). Heard by the
   * announcer too; without Redis only by it.
   */
  announceRevocation(keyId: string): void;
  /** `null` after Redis was away: notices sent meanwhile are lost, so every cached key is in doubt. */
  onRevocation(listener: (keyId: string | null) => void): void;
  close(): Promise<void>;
}

/** How long start-up waits for Redis before going on without it (it keeps reconnecting in the background). */
const STARTUP_WAIT_MS = 5_000;

/**
 * A Redis client that never fails a queued command: a notice published
 * while Redis is away waits for it to come back (ioredis re-subscribes on
 * reconnect), and the outage is logged once, not on every retry.
 */
function redisClient(url: string, log: Logger, onBack?: () => void): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  let healthy = true;
  client.on("ready", () => {
    if (!healthy) {
      log.info("Redis is reachable again; live updates from other replicas are immediate again");
      onBack?.();
    }
    healthy = true;
  });
  client.on("error", (err: Error) => {
    if (healthy) log.warn({ err: err.message }, "Redis is unreachable; live updates from other replicas arrive at the next poll until it is back");
    healthy = false;
  });
  return client;
}

export async function createClusterBus(redisUrl: string | undefined, deploymentId: string, log: Logger): Promise<ClusterBus> {
  const channel = logAdvanced(deploymentId);
  const revocations = keyRevoked(deploymentId);
  const revocationListeners: Array<(keyId: string | null) => void> = [];
  const heardRevocation = (keyId: string | null) => {
    for (const listener of revocationListeners) listener(keyId);
  };
  // Revocations sent while the subscriber was away are lost: everything it cached is in doubt once it is back.
  const clients = redisUrl ? [redisClient(redisUrl, log), redisClient(redisUrl, log, () => heardRevocation(null))] : [];
  const [publishClient, subscribeClient] = clients;
  const pubSub = createPubSub<BusTopics>({
    eventTarget: publishClient ? createRedisEventTarget({ publishClient, subscribeClient }) : undefined,
    // One consumer per process that only needs the newest notice: older ones are dropped, never queued without bound.
    repeaterBuffer: new SlidingBuffer(1),
  });
  const subscription = pubSub.subscribe(channel);
  const listeners: Array<(position: string) => void> = [];
  let consuming: Promise<void> | undefined;
  // The first pull registers the event target's listener (over Redis, it sends SUBSCRIBE).
  const consume = () => {
    consuming ??= (async () => {
      for await (const notice of subscription) for (const listener of listeners) listener(notice.position);
    })();
  };
  if (subscribeClient) {
    // Every one is kept (no sliding buffer): each names another key. The event target ignores this channel.
    subscribeClient.on("message", (from: string, keyId: string) => {
      if (from === revocations) heardRevocation(keyId);
    });
    // Confirming a SUBSCRIBE of our own means no notice sent after start-up is missed.
    await subscribedWithin(subscribeClient, [channel, revocations], consume, log);
  } else {
    consume();
    await new Promise((resolve) => setImmediate(resolve));
  }

  return {
    announce(position) {
      // Over Redis it goes straight to the client, in the event target's wire format (JSON), so a publish that fails during an outage is caught.
      if (publishClient) publishClient.publish(channel, JSON.stringify({ position })).catch(() => undefined);
      else pubSub.publish(channel, { position });
    },
    onAnnouncement(listener) {
      listeners.push(listener);
    },
    announceRevocation(keyId) {
      if (publishClient) publishClient.publish(revocations, keyId).catch(() => undefined);
      else heardRevocation(keyId);
    },
    onRevocation(listener) {
      revocationListeners.push(listener);
    },
    async close() {
      await subscription.return();
      await consuming;
      // quit() waits for Redis to answer, which it may not; disconnect() does not.
      await Promise.all(clients.map(async (client) => (client.status === "ready" ? client.quit().catch(() => client.disconnect()) : client.disconnect())));
    },
  };
}

/**
 * Runs `work` once the connection is ready. ioredis writes a SUBSCRIBE at
 * once on a connection still in its ready check, which then fails (the INFO
 * it sends is refused in subscriber mode) and takes the connection down;
 * while not yet connected, commands wait in the offline queue and are sent
 * after the check, and ioredis subscribes again by itself after a reconnect.
 */
function whenReady(client: Redis, work: () => void): void {
  if (client.status === "ready") work();
  else client.once("ready", work);
}

async function subscribedWithin(client: Redis, channels: string[], consume: () => void, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), STARTUP_WAIT_MS)));
  const subscribed = new Promise<"subscribed">((resolve) =>
    whenReady(client, () => {
      consume();
      setImmediate(() => client.subscribe(...channels).then(() => resolve("subscribed"), () => undefined));
    }),
  );
  const outcome = await Promise.race([subscribed, late]);
  clearTimeout(timer);
  if (outcome === "late") log.warn(`Redis did not answer within ${STARTUP_WAIT_MS} ms; starting without it, live updates from other replicas wait for the next poll until it does`);
}
