import { Readable } from 'node:stream';
import { AidocError, PatientIdSchema, toTraceJson } from '@aidoc/core';
import type { FastifyInstance } from 'fastify';
import { disconnectSignal } from './client-disconnect.ts';
import { briefingEventMessages } from './server-sent-events.ts';
import type { ServerContext } from './server-context.ts';

interface BriefingRequest {
  Params: { id: string };
  Querystring: { trace?: string };
  Body: unknown;
}

/** `GET /api/v1/patients` and `POST /api/v1/patients/:id/briefing` (JSON, or SSE with `Accept: text/event-stream`). */
export function registerBriefingRoutes(server: FastifyInstance, context: ServerContext): void {
  const { adapters, pipeline, tracker, metrics } = context;

  server.get('/api/v1/patients', async (_request, reply) => {
    const { patients } = adapters;
    if (patients.list === undefined) {
      return reply.code(501).send({ code: 'NOT_IMPLEMENTED', message: 'The configured patient repository cannot list patients' });
    }
    const listing = await patients.list({ signal: disconnectSignal(reply) });
    return { patients: listing.map(({ id, label }) => ({ id, label })) };
  });

  server.post<BriefingRequest>('/api/v1/patients/:id/briefing', async (request, reply) => {
    assertEmptyBody(request.body);
    const patientId = request.params.id;
    if (!PatientIdSchema.safeParse(patientId).success) {
      throw new AidocError('INVALID_INPUT', 'A patient id is a positive integer (1 to 12 digits)');
    }
    const clientSignal = disconnectSignal(reply);

    if (wantsEventStream(request.headers.accept)) {
      const run = tracker.begin(clientSignal);
      reply.raw.once('close', run.end);
      const messages = briefingEventMessages(pipeline.stream(patientId, { signal: run.signal }), (trace) => metrics.observeTrace(trace));
      const body = Readable.from(endWhenDone(messages, run.end), { objectMode: false });
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        .send(body);
    }

    const result = await tracker.run(clientSignal, (signal) => pipeline.brief(patientId, { signal }));
    metrics.observeTrace(result.trace);
    const { briefing, sources, usage } = result;
    return request.query.trace === '1' ? { briefing, sources, usage, trace: toTraceJson(result.trace) } : { briefing, sources, usage };
  });
}

/** The briefing takes no parameters in its body: none, or `{}`. */
function assertEmptyBody(body: unknown): void {
  const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new AidocError('INVALID_INPUT', 'The briefing request takes no body (send none or {})');
}

function wantsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/** Yields every message, then marks the briefing finished (also when the consumer stops early). */
async function* endWhenDone(messages: AsyncGenerator<string>, end: () => void): AsyncGenerator<string> {
  try {
    yield* messages;
  } finally {
    end();
  }
}
