import { describe, expect, it } from 'vitest';
import { gather } from '../src/executor/gather.ts';
import { toTraceJson } from '../src/tracing/trace-json.ts';
import { runTraced, withSpan } from '../src/tracing/trace-context.ts';
import { delay } from './support/delay.ts';

describe('toTraceJson', () => {
  it('serialises every span with its parent, timing and critical-path flag, as plain JSON', async () => {
    const { trace } = await runTraced('request', () =>
      gather({
        slow: () => withSpan('embedder.embed', () => delay(30, 1), 'call'),
        fast: () => delay(5, 2),
      }),
    );
    const json = toTraceJson(trace);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    const byName = new Map(json.spans.map((span) => [span.name, span]));
    expect(byName.get('embedder.embed')).toMatchObject({ kind: 'call', parentId: byName.get('slow')!.id, critical: true, status: 'ok' });
    expect(byName.get('fast')!.critical).toBe(false);
    expect(byName.get('request')!.parentId).toBeUndefined();
    expect(json.durationMs).toBeGreaterThanOrEqual(byName.get('slow')!.end - 1);
    expect(Date.parse(json.startedAt)).not.toBeNaN();
  });
});
