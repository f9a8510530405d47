import type { Orm } from "../db/orm";
import type { Config } from "../config";
import type { Logger } from "../common/logger";
import { systemClock, type Clock } from "../common/clock";
import type { EventRelay } from "../events/event-relay";
import { WebhookDispatcher } from "./webhook.dispatcher";
import { WebhookSender } from "./webhook.sender";
import type { SecretBox } from "./webhook.secrets";
import type { PhotoLinks } from "../photos/photo.links";
import type { WorkerContext } from "../jobs/worker.runtime";

/** The background half of webhooks: the dispatcher turns settled task events into deliveries, the sender sends them. */
export class WebhookWorkers {
  readonly dispatcher: WebhookDispatcher;
  readonly sender: WebhookSender;

  /** Retry times and windows are judged by `clock` (a test's moves forward instead of waiting out a window). */
  constructor(orm: Orm, config: Config, secrets: SecretBox, log: Logger, links: PhotoLinks, clock: Clock = systemClock) {
    this.sender = new WebhookSender(orm, config.webhooks, secrets, log, clock);
    this.dispatcher = new WebhookDispatcher(orm, config.webhooks.retryWindowMs, log, () => this.sender.wake(), links, clock);
  }

  /** The durable dispatcher cursor: every event up to it already has its deliveries. */
  position(): Promise<string> {
    return this.dispatcher.position();
  }

  /** Dispatches as the relay settles events (including any it caught up on at start) and starts sending. */
  start(relay: EventRelay, context?: WorkerContext): void {
    relay.onAdvance((advance) => this.dispatcher.relayed(advance));
    this.dispatcher.advanceTo(relay.position);
    this.sender.start(context?.loop("sender", this.sender.leaseMs));
  }

  /** A delivery was queued by hand (redelivery): send it now rather than at the next poll. */
  wake(): void {
    this.sender.wake();
  }

  async stop(): Promise<void> {
    await this.sender.stop();
    await this.dispatcher.stop();
  }
}
