import type http from "node:http";
import type { WebSocket, WebSocketServer } from "ws";
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, parseMessage, type SubscribePayload } from "graphql-ws";
import { execute, getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from "graphql";
import type { Logger } from "../common/logger";
import { isTakeable, takeableOf, type Sink, type Takeable } from "../common/sink";

/** A connection's time to send connection_init, as graphql-ws allows (3 s). */
const CONNECTION_INIT_WAIT_MS = 3_000;

/**
 * One open socket. The upgrade request is held only until connection_init
 * (the hooks read its cookie); `subscriptions` exists once the first
 * operation arrives, and holds null for an operation still being prepared.
 */
class Connection<S> {
  initReceived = false;
  /** What `connect` answered: set once the connection is acknowledged. */
  state?: S;
  request?: http.IncomingMessage;
  initTimer?: NodeJS.Timeout;
  subscriptions?: Map<string, Delivery<S> | null>;

  constructor(
    readonly socket: WebSocket,
    request: http.IncomingMessage,
  ) {
    this.request = request;
  }
}

/** How an operation's messages are written to its connection. */
interface Messages<S> {
  next(connection: Connection<S>, id: string, result: ExecutionResult, written: (err?: Error) => void): void;
  error(connection: Connection<S>, id: string, errors: readonly GraphQLError[]): void;
  complete(connection: Connection<S>, id: string): void;
}

/**
 * An operation being delivered: the sink its results are taken into, one
 * at a time, until it ends, errs, or is ended (no longer the one under its
 * id). A live event reaches `next` in the feed's wake of its subscriber
 * and is written to the socket in that same turn; the next result is
 * taken once that write is done.
 */
class Delivery<S> implements Sink<ExecutionResult> {
  /** The socket's write callback, made once for the operation's life. */
  private readonly written = (err?: Error) => {
    if (!err && this.current()) this.operation.take(this);
  };

  constructor(
    readonly connection: Connection<S>,
    readonly id: string,
    readonly operation: Takeable<ExecutionResult>,
    private readonly messages: Messages<S>,
  ) {}

  start(): void {
    this.operation.take(this);
  }

  next(result: ExecutionResult): void {
    if (!this.current()) return;
    try {
      this.messages.next(this.connection, this.id, result, this.written);
    } catch (err) {
      this.error(err);
    }
  }

  error(err: unknown): void {
    if (!this.end()) return;
    const original = err instanceof Error ? err : new Error(String(err));
    this.messages.error(this.connection, this.id, [new GraphQLError(original.message, { originalError: original })]);
  }

  complete(): void {
    if (this.end()) this.messages.complete(this.connection, this.id);
  }

  private current(): boolean {
    return this.connection.subscriptions?.get(this.id) === this;
  }

  /** Takes the operation out of its connection's map; false if it was not there (ended already). */
  private end(): boolean {
    if (!this.current()) return false;
    this.connection.subscriptions!.delete(this.id);
    return true;
  }
}

export interface TransportHooks<S> {
  /**
   * connection_init: the connection's state when it may stay, or undefined
   * once the hook has closed the socket (with its own code and reason).
   */
  connect(socket: WebSocket, request: http.IncomingMessage, params: Readonly<Record<string, unknown>> | undefined): Promise<S | undefined>;
  /** The socket closed (after `connect` answered a state). */
  closed(socket: WebSocket, state: S): void;
  /** The operation's execution arguments without its context, or why it cannot run. */
  prepare(payload: SubscribePayload): Omit<ExecutionArgs, "contextValue"> | readonly GraphQLError[];
  /** A new context for one operation of the connection. */
  context(state: S): Promise<unknown>;
  /** graphql's `subscribe` (or one that shares executions between subscriptions, and may answer a Takeable stream). */
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[];
}

export interface Transport {
  /** Closes every connection (1001 Going away) and the WebSocket server. */
  dispose(): Promise<void>;
}

export function acceptTransportProtocol(protocols: Set<string>): string | false {
  return protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false;
}

/**
 * The server side of the graphql-transport-ws protocol (what graphql-ws's
 * client speaks), written for many long-lived subscriptions: a connection
 * is one small object and its socket's listeners are shared functions; an
 * operation is its iterator in the connection's map, pulled by a promise
 * chain rather than a suspended `for await`; and a result that many
 * subscriptions share (see shared-execution.ts) is serialized once, each
 * connection's message being its id around that text.
 *
 * Protocol behaviour is graphql-ws's (6.x): connection_init within 3 s
 * (4408), once (4429), acknowledged by connection_ack; a subscribe before
 * the acknowledgement closes with 4401, a second one with an id in use with
 * 4409, a message that is not one of the protocol's with 4400; ping is
 * answered with pong; an operation sends next messages, then complete (or
 * error); a complete from the client ends the operation without an answer;
 * a socket error closes with 4500. The next message is pulled only once
 * the previous one is written, so a slow reader's events wait in its
 * subscription's bounded queue rather than in the socket's buffer.
 */
export function serveTransport<S>(wss: WebSocketServer, hooks: TransportHooks<S>, log: Logger): Transport {
  const connections = new Map<WebSocket, Connection<S>>();
  const serialized = new WeakMap<object, string>();

  const close = (connection: Connection<S>, code: number, reason: string) => connection.socket.close(code, reason);
  const send = (connection: Connection<S>, message: string, written?: (err?: Error) => void) => {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(message, written);
    else written?.(new Error("the socket is closed"));
  };
  const idPart = (id: string) => `{"id":${JSON.stringify(id)},`;

  const sendNext = (connection: Connection<S>, id: string, result: ExecutionResult, written?: (err?: Error) => void) => {
    let payload: string | undefined;
    if (result.errors) payload = JSON.stringify({ ...result, errors: hooks.formatErrors(result.errors) });
    else if ((payload = serialized.get(result)) === undefined) serialized.set(result, (payload = JSON.stringify(result)));
    send(connection, `${idPart(id)}"type":"next","payload":${payload}}`, written);
  };
  const sendError = (connection: Connection<S>, id: string, errors: readonly GraphQLError[]) =>
    send(connection, `${idPart(id)}"type":"error","payload":${JSON.stringify(hooks.formatErrors(errors))}}`);
  const sendComplete = (connection: Connection<S>, id: string) => send(connection, `${idPart(id)}"type":"complete"}`);
  const messages: Messages<S> = { next: sendNext, error: sendError, complete: sendComplete };

  const startOperation = async (connection: Connection<S>, id: string, payload: SubscribePayload): Promise<void> => {
    const subscriptions = (connection.subscriptions ??= new Map());
    if (subscriptions.has(id)) return close(connection, CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    subscriptions.set(id, null);
    try {
      const prepared = hooks.prepare(payload);
      if (Array.isArray(prepared)) {
        sendError(connection, id, prepared as readonly GraphQLError[]);
        return;
      }
      const args = prepared as Omit<ExecutionArgs, "contextValue">;
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) {
        sendError(connection, id, [new GraphQLError("Unable to identify operation")]);
        return;
      }
      const contextValue = await hooks.context(connection.state!);
      const execution: ExecutionArgs = { ...args, contextValue };
      const result = operation.operation === "subscription" ? await hooks.subscribe(execution) : await execute(execution);
      if (Symbol.asyncIterator in result) {
        const operation = isTakeable<ExecutionResult>(result) ? result : takeableOf(result[Symbol.asyncIterator]());
        // Completed by the client (or the socket closed) while it was being set up.
        if (subscriptions.get(id) !== null || !connections.has(connection.socket)) {
          await operation.return();
          return;
        }
        const delivery = new Delivery(connection, id, operation, messages);
        subscriptions.set(id, delivery);
        delivery.start();
        return;
      }
      if (subscriptions.has(id)) {
        sendNext(connection, id, result);
        sendComplete(connection, id);
      }
    } finally {
      if (subscriptions.get(id) === null) subscriptions.delete(id);
    }
  };

  const onInit = async (connection: Connection<S>, params: Record<string, unknown> | undefined): Promise<void> => {
    if (connection.initReceived) return close(connection, CloseCode.TooManyInitialisationRequests, "Too many initialisation requests");
    connection.initReceived = true;
    clearTimeout(connection.initTimer);
    connection.initTimer = undefined;
    const request = connection.request!;
    // Nothing needs the upgrade request after connection_init: kept, its headers and stream state cost about 1.5 KB per connection.
    connection.request = undefined;
    const state = await hooks.connect(connection.socket, request, params);
    if (state === undefined) return close(connection, CloseCode.Forbidden, "Forbidden");
    if (!connections.has(connection.socket)) return hooks.closed(connection.socket, state);
    connection.state = state;
    send(connection, `{"type":"${MessageType.ConnectionAck}"}`);
  };

  const onMessage = async (connection: Connection<S>, data: string): Promise<void> => {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return close(connection, CloseCode.BadRequest, "Invalid message received");
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return onInit(connection, message.payload ?? undefined);
      case MessageType.Ping:
        return send(connection, JSON.stringify(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        if (connection.state === undefined) return close(connection, CloseCode.Unauthorized, "Unauthorized");
        return startOperation(connection, message.id, message.payload);
      case MessageType.Complete: {
        const delivery = connection.subscriptions?.get(message.id);
        connection.subscriptions?.delete(message.id);
        await delivery?.operation.return();
        return;
      }
      default:
        return close(connection, CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  };

  // Shared listeners: `this` is the socket, so a connection adds no closures of its own.
  // ws hands a message over as one Buffer (its binaryType is left "nodebuffer").
  function onSocketMessage(this: WebSocket, data: Buffer) {
    const connection = connections.get(this);
    if (!connection) return;
    onMessage(connection, data.toString()).catch((err: unknown) => {
      log.error({ err }, "a graphql-transport-ws message failed");
      close(connection, CloseCode.InternalServerError, "Internal server error");
    });
  }
  function onSocketError(this: WebSocket, err: Error) {
    log.warn({ err }, "a WebSocket connection failed");
    this.close(CloseCode.InternalServerError, "Internal server error");
  }
  function onSocketClose(this: WebSocket) {
    const connection = connections.get(this);
    if (!connection) return;
    connections.delete(this);
    clearTimeout(connection.initTimer);
    const operations = connection.subscriptions;
    connection.subscriptions = undefined;
    for (const delivery of operations?.values() ?? []) delivery?.operation.return().catch((err: unknown) => log.error({ err }, "ending a subscription failed"));
    if (connection.state !== undefined) hooks.closed(this, connection.state);
  }

  wss.on("connection", (socket: WebSocket, request: http.IncomingMessage) => {
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, "Subprotocol not acceptable");
      return;
    }
    const connection = new Connection<S>(socket, request);
    connection.initTimer = setTimeout(() => {
      if (!connection.initReceived) close(connection, CloseCode.ConnectionInitialisationTimeout, "Connection initialisation timeout");
    }, CONNECTION_INIT_WAIT_MS);
    connections.set(socket, connection);
    socket.on("message", onSocketMessage);
  });

  return {
    async dispose() {
      for (const socket of wss.clients) socket.close(1001, "Going away");
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
