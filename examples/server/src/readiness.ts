import { AidocError, raceWithAbort } from '@aidoc/core';
import type { Adapters } from '@aidoc/example-config';

/** The outcome of each readiness check: `ok`, or why it failed. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<'vectorStore' | 'patients', string>>;
}

/** An id no patient has: a NOT_FOUND answer proves the repository is reachable, cheaply. */
const PROBE_PATIENT_ID = '999999999999';

/**
 * Cheap checks, each bounded by `timeoutMs`: the collection exists and holds points
 * (`vectorStore.info`), and the patient repository answers (a lookup of a probe id). The
 * embedder and the model are not probed: a call costs money and quota on the hosted ones.
 */
export async function checkReadiness(adapters: Adapters, collection: string, timeoutMs: number): Promise<Readiness> {
  const [vectorStore, patients] = await Promise.all([
    runCheck(timeoutMs, async (signal) => {
      const info = await adapters.vectorStore.info(collection, { signal });
      if (!info.exists) return `collection "${collection}" is missing: run ingestion`;
      if (info.pointCount === 0) return `collection "${collection}" is empty: run ingestion`;
      return 'ok';
    }),
    runCheck(timeoutMs, async (signal) => {
      try {
        await adapters.patients.getById(PROBE_PATIENT_ID, { signal });
      } catch (error) {
        if (!AidocError.hasCode(error, 'NOT_FOUND')) throw error;
      }
      return 'ok';
    }),
  ]);
  return { ready: vectorStore === 'ok' && patients === 'ok', checks: { vectorStore, patients } };
}

async function runCheck(timeoutMs: number, check: (signal: AbortSignal) => Promise<string>): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // The race bounds the check even when an adapter ignores its signal.
    return await raceWithAbort(check(signal), signal);
  } catch (error) {
    if (signal.aborted) return `no answer within ${timeoutMs} ms`;
    return `unreachable (${AidocError.isInstance(error) ? error.code : 'error'})`;
  }
}
