export { AidocError, AidocErrorCode, type AidocErrorOptions } from './errors/aidoc-error.ts';
export { abortError, toAidocError } from './errors/to-aidoc-error.ts';

export {
  Span,
  Trace,
  type SpanAnnotation,
  type SpanAttributeValue,
  type SpanKind,
  type SpanListener,
  type SpanStatus,
} from './tracing/span.ts';
export {
  addSpanListener,
  currentSpan,
  runInSpan,
  runTraced,
  startTrace,
  withSpan,
  type TracedResult,
} from './tracing/trace-context.ts';
