/**
 * Where a stream hands its values, one at a time: a consumer asks for the
 * next value with `take(sink)`, and the stream calls exactly one of the
 * sink's methods, once, when it has an answer. A consumer keeps one sink
 * for its whole life, so a stream that already holds its value (a live
 * event fanned out to thousands of subscribers) hands it over with a method
 * call: no promise, closure or iterator result per value.
 */
export interface Sink<T> {
  next(value: T): void;
  error(err: unknown): void;
  /** The stream has ended: no value will follow. */
  complete(): void;
}

/** A stream read by `take`. `return()` ends it at once (as an async iterator's does). */
export interface Takeable<T> {
  take(sink: Sink<T>): void;
  return(): Promise<unknown>;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Takes the next step of an async iterator into a sink. */
function takeNext<T>(iterator: AsyncIterator<T>, sink: Sink<T>): void {
  iterator.next().then(
    (step) => (step.done ? sink.complete() : sink.next(step.value)),
    (err: unknown) => sink.error(err),
  );
}

/** An async iterator as a Takeable stream. */
export function takeableOf<T>(iterator: AsyncIterator<T>): Takeable<T> {
  return {
    take: (sink) => takeNext(iterator, sink),
    return: async () => iterator.return?.(),
  };
}

/**
 * A Takeable stream as an async iterator, for a consumer that wants one
 * (graphql-js's own `subscribe`): a promise per value, as usual.
 */
export function iteratorOf<T>(stream: Takeable<T>): AsyncIterableIterator<T> {
  return {
    next: () =>
      new Promise<IteratorResult<T>>((resolve, reject) =>
        stream.take({
          next: (value) => resolve({ done: false, value }),
          error: reject,
          complete: () => resolve(DONE),
        }),
      ),
    async return() {
      await stream.return();
      return DONE;
    },
    async throw(err: unknown) {
      await stream.return();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Whether an async iterable is also a Takeable stream (read it by `take`, not through an iterator). */
export function isTakeable<T>(value: object): value is Takeable<T> {
  return typeof (value as Partial<Takeable<T>>).take === "function" && typeof (value as Partial<Takeable<T>>).return === "function";
}
