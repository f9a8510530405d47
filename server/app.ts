import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { GraphQLSchema } from "graphql";
import type { Config } from "./config";
import { createLogger, type Logger } from "./common/logger";
import type { Clock } from "./common/clock";
import { initORM, type Orm } from "./db/orm";
import { deploymentIdOf } from "./db/deployment.entity";
import { createServices, type Services } from "./services";
import { JobWorker, finishedJobs } from "./jobs/job.queue";
import { WorkerRuntime } from "./jobs/worker.runtime";
import { RetentionWorker } from "./jobs/retention";
import { deliveredWebhooks } from "./webhooks/webhook.retention";
import { expiredIdempotencyRecords } from "./rest/idempotency.retention";
import { endedSessions } from "./sessions/session.retention";
import { mootExpiryJobs, mootLapseJobs } from "./tasks/task.retention";
import { registerTaskJobs } from "./tasks/task.jobs";
import { TransitionLog } from "./tasks/transition.log";
import { registerKycJobs } from "./kyc/kyc.jobs";
import { registerGuardianJobs } from "./guardian/guardian.jobs";
import { ensureMockOperator, registerTestMode } from "./testmode/mock-operator";
import { createSchema } from "./graphql/schema";
import { drainHttpServer } from "./common/http-drain";
import { graphqlErrorBody, mountFallbacks } from "./common/http-errors";
import { createContextFactory, mountGraphQL } from "./graphql/apollo";
import type { ContextFactory } from "./graphql/context";
import { admission } from "./graphql/admission";
import { directGraphQL } from "./graphql/direct";
import { createRateLimiter } from "./common/rate-limit";
import { mountRest, type DirectHandler } from "./rest/rest.router";
import { createOperationRunner } from "./graphql/runner";
import { createLiveUpdates, type LiveUpdates } from "./subscriptions/live-updates";
import { WebhookWorkers } from "./webhooks/webhook.workers";
import { mountMcp } from "./mcp/http.route";
import { Chains } from "./chain/chains";
import { ChainBindings } from "./chain/chain-binding";
import { EscrowWorkers } from "./escrow/escrow.workers";
import { mountSumsubWebhook } from "./kyc/sumsub.route";
import { registerPhotoJobs, scheduleLegacyPhotoMove, scheduleRehash } from "./photos/photo.jobs";
import { registerSessionJobs } from "./sessions/session.jobs";
import { mountSessions } from "./sessions/session.route";
import { mountWebApp } from "./web/web-app.route";

/** How long a stop waits for requests already being handled. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface HumanOps {
  config: Config;
  log: Logger;
  orm: Orm;
  services: Services;
  worker: JobWorker;
  /** Every background worker of the process: started, watched by /readyz and stopped in one order. */
  runtime: WorkerRuntime;
  /** Prunes finished jobs, delivered webhooks, spent idempotency records and ended sessions. */
  retention: RetentionWorker;
  schema: GraphQLSchema;
  httpServer: http.Server;
  createContext: ContextFactory;
  /** graphql-ws subscriptions and the relay of the task event log that feeds them. */
  live: LiveUpdates;
  webhooks: WebhookWorkers;
  /** The chains test and live money settle on. */
  chains: Chains;
  /** The chain outbox sender, indexers and reconciliation. */
  escrow: EscrowWorkers;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: drains HTTP, finishes in-flight jobs, closes the database. */
  stop(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Run background jobs in this process (default true). */
  runWorker?: boolean;
  /** The time deadlines, sessions and caches are judged by (default: the system clock; tests move theirs forward). */
  clock?: Clock;
}

/**
 * Assembles one HumanOps process: database, domain services, background
 * worker and the HTTP server with GraphQL at /graphql.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<HumanOps> {
  const log = options.log ?? createLogger(config.logLevel);
  const orm = await initORM(config.database);
  orm.em.getEventManager().registerSubscriber(new TransitionLog(log));
  const deploymentId = config.deploymentId ?? (await deploymentIdOf(orm));
  const chains = await Chains.start(config.chain, log, options.clock);
  const bindings = new ChainBindings(orm, chains, log);
  await bindings.claim().catch(async (err: unknown) => {
    await chains.stop();
    await orm.close();
    throw err;
  });
  // Workers register in dependency order (each after what it relies on): started in it, stopped in reverse.
  const runtime = new WorkerRuntime(log);
  runtime.register(bindings);
  await runtime.start();
  let webhooks: WebhookWorkers | undefined;
  const signals = {
    deliveriesDue: () => webhooks?.wake(),
  };
  const services = createServices(config, signals, chains, log, options.clock);
  const worker = new JobWorker(orm, log, config.worker);
  webhooks = new WebhookWorkers(orm, config, services.secrets, log, services.photos.links, options.clock);
  const escrow = new EscrowWorkers(orm, chains, services, log, { leaseMs: config.chain.leaseMs, reconcileMs: config.chain.reconcileMs });
  orm.em.getEventManager().registerSubscriber(worker.commitHook());
  orm.em.getEventManager().registerSubscriber(escrow.commitHook());
  const ages = config.retention;
  const pruners = [finishedJobs(ages.jobsMs), mootExpiryJobs(), mootLapseJobs(), deliveredWebhooks(ages.webhookDeliveriesMs), expiredIdempotencyRecords(ages.idempotencyMs), endedSessions(ages.sessionsMs, config.sessions.idleMs)];
  const retention = new RetentionWorker(orm, pruners, config.retention, log);

  const mockOperator = await ensureMockOperator(orm.em.fork());
  registerTaskJobs(worker, services.tasks);
  registerKycJobs(worker, services.kyc);
  registerTestMode(worker, config, services.tasks, services.proofs, services.photos, mockOperator.id);
  registerGuardianJobs(worker, services.guardian, services.tasks, services.photos);
  registerPhotoJobs(worker, services.photos, config.photos.moveBatch);
  registerSessionJobs(worker, services.sessions);
  await scheduleLegacyPhotoMove(orm.em.fork(), log);
  await scheduleRehash(orm.em.fork(), log);

  const schema = await createSchema();
  // One budget per caller across the three HTTP APIs; WebSocket operations spend from their key's too (mutations only).
  const limiter = createRateLimiter(config.rateLimits, config.redisUrl, deploymentId, log);
  const createContext = createContextFactory(orm, services, log, limiter);
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  // POST /graphql with a plain JSON body (server/graphql/direct.ts) and REST GETs (directRest in server/rest/rest.router.ts) are answered before express; everything else goes through express.
  let direct: DirectHandler | undefined;
  let directRest: DirectHandler | undefined;
  const httpServer = http.createServer((req, res) => {
    if (!direct?.(req, res) && !directRest?.(req, res)) void app(req, res);
  });
  let ready = false;

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    // Every background worker is running and none of their loops is stuck past its lease (named in `workers` if one is).
    const health = runtime.health();
    const checks = { database: await orm.isConnected(), workers: health.ok, accepting: ready };
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "not ready", checks, workers: health.workers });
  });
  const admitGraphQL = admission(createContext, (res, err) => res.status(err.httpStatus).json(graphqlErrorBody(err)), { sessions: true });
  app.use("/graphql", admitGraphQL);
  app.use("/mcp", admission(createContext, (res, err) => res.status(err.httpStatus).json({ jsonrpc: "2.0", error: { code: err.code === "RATE_LIMITED" ? -32000 : -32001, message: err.message }, id: null })));
  const { apollo, known } = await mountGraphQL(app, schema, log, config.limits.jsonBodyBytes);
  direct = directGraphQL({ app, schema, apollo, known, admit: admitGraphQL, log, jsonBodyBytes: config.limits.jsonBodyBytes });
  // REST and /mcp run the documents of server/api through one runner, which checks them all against the schema now.
  const runner = createOperationRunner(schema, log);
  directRest = mountRest(app, { config, schema, runner, createContext, orm, worker, log, photoStore: services.photos.store });
  mountSumsubWebhook(app, { orm, services, log });
  mountSessions(app, { orm, services, limiter });
  const live = await createLiveUpdates({ orm, config, services, schema, createContext, httpServer, deploymentId, log });
  const mcp = mountMcp(app, { runner, createContext, live: services.live, log, jsonBodyBytes: config.limits.jsonBodyBytes });
  mountWebApp(app, config, services.photos.links, log);
  mountFallbacks(app, log);

  return {
    config,
    log,
    orm,
    services,
    worker,
    runtime,
    retention,
    schema,
    httpServer,
    createContext,
    live,
    webhooks,
    chains,
    escrow,
    async listen() {
      const position = await webhooks.position();
      runtime.register({ name: "event-relay", start: (context) => live.start(position, context.loop("read", live.relay.leaseMs)), stop: () => live.stop() });
      await runtime.start();
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve());
      });
      if (options.runWorker !== false) {
        runtime.register(escrow);
        runtime.register(worker);
        runtime.register({ name: "webhooks", start: (context) => webhooks.start(live.relay, context), stop: () => webhooks.stop() });
        runtime.register(retention);
        await runtime.start();
      }
      ready = true;
      const { port } = httpServer.address() as AddressInfo;
      const url = `http://${config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host}:${port}`;
      services.photos.links.listeningAt(url);
      log.info({ url: `${url}/graphql`, database: config.database.kind }, "HumanOps is listening");
      if (services.guardian.reviewsLiveProof) {
        log.warn("Guardian: no vision model (GUARDIAN_VISION_API_KEY unset): live proof is never approved automatically; its best score is the review band (MANUAL_REVIEW), so a person decides. Test tasks are scored as usual");
      }
      return url;
    },
    async stop() {
      ready = false;
      // Intake stops first: long-lived connections, so the HTTP server can
      // close; then every request that began arriving is answered. Then the
      // background workers stop, last registered first (retention, webhooks,
      // jobs, escrow, the event relay, the chain bindings), each finishing
      // what it has in flight; the database closes last.
      await mcp.close();
      await live.subscriptions.dispose();
      await drainHttpServer(httpServer, SHUTDOWN_GRACE_MS);
      await apollo.stop();
      await limiter.close();
      await runtime.stop();
      services.photos.store.close?.();
      await services.decoder.close?.();
      await chains.stop();
      await orm.close();
      log.info("HumanOps stopped");
    },
  };
}
