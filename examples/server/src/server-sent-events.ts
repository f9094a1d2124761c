import { toTraceJson, type BriefingEvent, type Trace } from '@aidoc/core';
import { publicMessage, toErrorResponse } from './error-response.ts';

/** One SSE message: `event: <type>\ndata: <json>\n\n` (JSON never holds a raw newline). */
export function formatServerSentEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The SSE body of a streamed briefing: each event's fields (without `type`, which is the SSE
 * event name) as data; `done` carries `{ usage, durationMs, trace }` with the trace as TraceJson;
 * errors carry `{ code, message, retryable }` with the same message rules as JSON errors.
 */
export async function* briefingEventMessages(events: AsyncIterable<BriefingEvent>, onTrace: (trace: Trace) => void): AsyncGenerator<string> {
  try {
    for await (const event of events) {
      if (event.type === 'done') {
        onTrace(event.trace);
        yield formatServerSentEvent('done', { usage: event.usage, durationMs: event.durationMs, trace: toTraceJson(event.trace) });
      } else if (event.type === 'error') {
        yield formatServerSentEvent('error', { code: event.code, message: publicMessage(event.code, event.message), retryable: event.retryable });
      } else {
        const { type, ...data } = event;
        yield formatServerSentEvent(type, data);
      }
    }
  } catch (error) {
    const { body } = toErrorResponse(error);
    yield formatServerSentEvent('error', { ...body, retryable: false });
  }
}
