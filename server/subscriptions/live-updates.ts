import type http from "node:http";
import type { GraphQLSchema } from "graphql";
import type { Orm } from "../db/orm";
import type { Config } from "../config";
import type { Logger } from "../common/logger";
import type { Services } from "../services";
import type { ContextFactory } from "../graphql/context";
import { createClusterBus } from "../events/cluster-bus";
import { EventRelay } from "../events/event-relay";
import { mountSubscriptions, type SubscriptionServer } from "./ws.server";
import type { Heartbeat } from "../jobs/worker.runtime";

export interface LiveUpdates {
  readonly relay: EventRelay;
  readonly subscriptions: SubscriptionServer;
  /** Follows the event log from `position` (caught up before this resolves); each read beats `heartbeat`. */
  start(position: string, heartbeat?: Heartbeat): Promise<void>;
  /** Stops following the log. Close `subscriptions` first; stop this after the last commit of the process. */
  stop(): Promise<void>;
}

/** graphql-ws subscriptions on /graphql, fed by this process's relay of the task event log. */
export async function createLiveUpdates(deps: {
  orm: Orm;
  config: Config;
  services: Services;
  schema: GraphQLSchema;
  createContext: ContextFactory;
  httpServer: http.Server;
  deploymentId: string;
  log: Logger;
}): Promise<LiveUpdates> {
  const { orm, config, services, log } = deps;
  const bus = await createClusterBus(config.redisUrl, deps.deploymentId, log);
  // The same bus carries API key revocations, so every replica's cache of callers drops a revoked key at once.
  services.keys.shareRevocations(bus);
  const relay = new EventRelay(orm, services.live, bus, config.live, log);
  orm.em.getEventManager().registerSubscriber(relay.commitHook());
  const subscriptions = mountSubscriptions({ ...deps, keys: services.keys, sessions: services.sessions, allowedOrigins: config.web.allowedOrigins, keyRecheckMs: config.live.keyRecheckMs, heartbeatMs: config.live.heartbeatMs });
  return {
    relay,
    subscriptions,
    start: (position, heartbeat) => relay.start(position, heartbeat),
    async stop() {
      await relay.stop();
      await bus.close();
    },
  };
}
