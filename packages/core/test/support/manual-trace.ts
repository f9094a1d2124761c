import type { AidocErrorCode } from '../../src/errors/aidoc-error.ts';
import { Trace, type Span, type SpanAttributeValue, type SpanKind } from '../../src/tracing/span.ts';

export interface ManualSpan {
  /** Defaults to the root. */
  parent?: Span;
  kind?: SpanKind;
  queuedMs?: number;
  backoffMs?: number;
  attempts?: number;
  error?: AidocErrorCode;
  attributes?: Record<string, SpanAttributeValue>;
}

/**
 * A trace on a hand-set clock: tests place spans at exact times instead of sleeping. The root
 * starts at 0; `add` records a span from `start` to `end` (left running when `end` is
 * undefined), `at` sets "now" for spans still running, `finish` ends the root.
 */
export class ManualTrace extends Trace {
  /** Undefined while the base constructor starts the root (at 0). */
  clock: number | undefined;

  override now(): number {
    return this.clock ?? 0;
  }

  add(name: string, start: number, end: number | undefined, options: ManualSpan = {}): Span {
    this.clock = start;
    const span = this.startSpan(name, options.kind ?? 'task', options.parent ?? this.root);
    span.queuedMs = options.queuedMs ?? 0;
    span.backoffMs = options.backoffMs ?? 0;
    span.attempts = options.attempts ?? 1;
    for (const [key, value] of Object.entries(options.attributes ?? {})) span.setAttribute(key, value);
    if (end !== undefined) {
      this.clock = end;
      span.finish(options.error);
    }
    return span;
  }

  at(now: number): this {
    this.clock = now;
    return this;
  }

  finish(end: number, error?: AidocErrorCode): this {
    this.clock = end;
    this.root.finish(error);
    return this;
  }
}
