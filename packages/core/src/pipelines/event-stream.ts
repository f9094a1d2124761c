import type { AidocError } from '../errors/aidoc-error.ts';
import { toAidocError } from '../errors/to-aidoc-error.ts';
import { linkSignal } from '../executor/abort.ts';

/**
 * Turns a producer that emits events into an async iterable. The producer starts when iteration
 * starts; events are buffered until read; a consumer that stops early (`break`, `return`) aborts
 * the producer's signal, so a closed HTTP stream cancels the work behind it.
 */
export function eventStream<Event>(
  callerSignal: AbortSignal | undefined,
  producer: (emit: (event: Event) => void, signal: AbortSignal) => Promise<void>,
): AsyncIterable<Event> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Event> {
      const linked = linkSignal(callerSignal);
      const buffer: Event[] = [];
      let finished = false;
      let failure: AidocError | undefined;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      producer((event) => {
        if (finished) return;
        buffer.push(event);
        notify();
      }, linked.signal).then(
        () => {
          finished = true;
          notify();
        },
        (error: unknown) => {
          failure = toAidocError(error);
          finished = true;
          notify();
        },
      );
      const stop = (): void => {
        finished = true;
        linked.controller.abort();
        linked.dispose();
        buffer.length = 0;
        notify();
      };
      return {
        async next(): Promise<IteratorResult<Event>> {
          while (buffer.length === 0 && !finished) await new Promise<void>((resolve) => (wake = resolve));
          if (buffer.length > 0) return { value: buffer.shift()!, done: false };
          linked.dispose();
          if (failure !== undefined) throw failure;
          return { value: undefined, done: true };
        },
        return(): Promise<IteratorResult<Event>> {
          stop();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
