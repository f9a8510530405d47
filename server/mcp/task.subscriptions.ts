import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { isTerminal } from "../api/enums";
import type { GraphQLBackend } from "./graphql.backend";
import { resourceError, TASK_URI_TEMPLATE } from "./task.resource";
import { nextDelay, POLL_MS, pulse, TaskAlarm, type TaskPulse } from "./task.watch";
import { ToolError } from "./tool-result";

/** A client watching more tasks than this should use webhooks (register_webhook). */
const MAX_SUBSCRIPTIONS = 100;
/** Errors that polling again will not cure. */
const PERMANENT = new Set(["NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"]);

/**
 * resources/subscribe for task resources: each subscribed task is polled
 * (see POLL_MS; a change notice from the backend polls at once) and
 * notifications/resources/updated is sent when it changes, until the client
 * unsubscribes, the task is final, or the session closes.
 */
export class TaskSubscriptions {
  private readonly template = new UriTemplate(TASK_URI_TEMPLATE);
  private readonly watches = new Map<string, AbortController>();

  constructor(
    private readonly server: McpServer,
    private readonly backend: GraphQLBackend,
  ) {}

  install(): void {
    this.server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
      await this.subscribe(request.params.uri);
      return {};
    });
    this.server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
      this.watches.get(request.params.uri)?.abort();
      this.watches.delete(request.params.uri);
      return {};
    });
  }

  close(): void {
    for (const watch of this.watches.values()) watch.abort();
    this.watches.clear();
  }

  private async subscribe(uri: string): Promise<void> {
    const matched = this.template.match(uri)?.task_id;
    if (typeof matched !== "string" || !matched) throw new McpError(ErrorCode.InvalidParams, `not a HumanOps task URI: expected ${TASK_URI_TEMPLATE}`);
    const taskId = decodeURIComponent(matched);
    if (this.watches.has(uri)) return;
    if (this.watches.size >= MAX_SUBSCRIPTIONS) {
      throw new McpError(ErrorCode.InvalidRequest, `at most ${MAX_SUBSCRIPTIONS} task subscriptions per session; unsubscribe from finished tasks or use register_webhook`);
    }
    const first = await pulse(this.backend, taskId).catch((err: unknown) => {
      throw resourceError(err);
    });
    const watch = new AbortController();
    this.watches.set(uri, watch);
    void this.watch(uri, taskId, first, watch.signal).finally(() => {
      if (this.watches.get(uri) === watch) this.watches.delete(uri);
    });
  }

  private async watch(uri: string, taskId: string, first: TaskPulse, signal: AbortSignal): Promise<void> {
    const alarm = new TaskAlarm(this.backend, taskId);
    let last = first;
    let delay: number = POLL_MS.first;
    try {
      while (!signal.aborted && !isTerminal(last.status)) {
        try {
          await alarm.pause(delay, signal);
          const now = await pulse(this.backend, taskId, signal);
          const changed = now.updatedAt !== last.updatedAt;
          if (changed) await this.server.server.sendResourceUpdated({ uri });
          delay = nextDelay(delay, changed, alarm.maxPauseMs);
          last = now;
        } catch (err) {
          if (signal.aborted || (err instanceof ToolError && PERMANENT.has(err.code))) return;
          delay = POLL_MS.max;
        }
      }
    } finally {
      alarm.close();
    }
  }
}
