import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import type { Context } from "../graphql/context";
import { isPromise } from "../graphql/compiled";
import { isTakeable, iteratorOf, takeableOf, type Sink, type Takeable } from "../common/sink";

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Who a subscription's results are computed for: everything in its Context
 * that a field may read to decide what to answer (the caller and the mode
 * of its key). Two subscriptions with the same document, variables and
 * viewer get the same result for the same event.
 */
export function viewerOf(ctx: Context): string {
  const principal = ctx.principal;
  if (principal?.kind === "agent") return `agent:${principal.agentId}:${principal.mode}`;
  if (principal?.kind === "operator") return `operator:${principal.operatorId}:${principal.mode}`;
  if (ctx.admin) return `admin:${ctx.admin.adminId}`;
  return "anonymous";
}

/**
 * The events of one subscription, each executed into its result: the
 * stream is its source's sink, so a live event that the group's first
 * subscriber has executed reaches this subscription's consumer in the same
 * turn, by method calls. `return()` ends the source at once (a closed
 * connection stops listening), and an error from the source or the
 * execution ends the subscription with it.
 */
class ResultStream implements Takeable<ExecutionResult>, AsyncIterable<ExecutionResult>, Sink<unknown> {
  private sink?: Sink<ExecutionResult>;

  constructor(
    private readonly source: Takeable<unknown>,
    private readonly resultOf: (event: unknown) => Result,
  ) {}

  take(sink: Sink<ExecutionResult>): void {
    this.sink = sink;
    this.source.take(this);
  }

  /** The source's event, executed (or its group's result, executed once for all). */
  next(event: unknown): void {
    const sink = this.sink!;
    let result: Result;
    try {
      result = this.resultOf(event);
    } catch (err) {
      return sink.error(err);
    }
    if (isPromise(result)) result.then((value) => sink.next(value), (err: unknown) => sink.error(err));
    else sink.next(result);
  }

  error(err: unknown): void {
    this.sink!.error(err);
  }

  complete(): void {
    this.sink!.complete();
  }

  async return(): Promise<void> {
    await this.source.return();
  }

  [Symbol.asyncIterator](): AsyncIterator<ExecutionResult> {
    return iteratorOf(this);
  }
}

/**
 * graphql's `subscribe`, with each event executed once per group of
 * subscriptions that would compute the same result, instead of once per
 * subscription: a fan-out of one task event to 10,000 subscribers of the
 * same document (a dashboard's, the web app's) runs its resolvers once and
 * hands every subscriber the same result to send.
 *
 * A group is the document (the same parsed document: the server parses
 * each text once, see ws.server.ts), the operation, the variables as sent,
 * and the viewer (viewerOf). An event is shared by identity: the live feed
 * publishes one object per event to every queue, and TaskUpdate.of makes
 * one update per event. Replayed events are read per subscriber, so they
 * are executed per subscriber, as before. Results are kept only as long as
 * the event object lives.
 */
export function createSharedSubscribe(): (args: ExecutionArgs) => Promise<(Takeable<ExecutionResult> & AsyncIterable<ExecutionResult>) | ExecutionResult> {
  const results = new WeakMap<object, Map<string, Result>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const documentId = (document: DocumentNode) => {
    let id = documentIds.get(document);
    if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
    return id;
  };

  return async (args) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const group = [documentId(args.document), args.operationName ?? "", JSON.stringify(args.variableValues ?? {}), viewerOf(args.contextValue as Context)].join("\0");
    const run = (event: unknown) => execute({ ...args, rootValue: event });
    const events = isTakeable<unknown>(source) ? source : takeableOf(source[Symbol.asyncIterator]());
    return new ResultStream(events, (event) => {
      if (typeof event !== "object" || event === null) return run(event);
      let byGroup = results.get(event);
      if (!byGroup) results.set(event, (byGroup = new Map<string, Result>()));
      let result = byGroup.get(group);
      if (!result) {
        byGroup.set(group, (result = run(event)));
        // Once settled, the group's later subscribers take the result itself, not a promise of it.
        if (isPromise(result)) result.then((value) => byGroup.set(group, value), () => undefined);
      }
      return result;
    });
  };
}
