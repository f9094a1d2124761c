import pg from 'pg';
import type { Pool } from 'pg';

/** How long one cancel waits for the statement to end before it asks again. */
const RETRY_AFTER_MS = 200;
/** Cancels sent before giving up (the caller then destroys the connection). */
const MAX_ATTEMPTS = 5;
/** Used when the pool sets no `connectionTimeoutMillis`: a cancel must not hang on a dead server. */
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/**
 * Stops the statement the backend `processId` is running: opens one short-lived connection with
 * the pool's own settings (not a pooled one: the pool may be exhausted by the very statements to
 * cancel) and calls `pg_cancel_backend(processId)` until `statement` settles.
 *
 * Why several attempts: a cancel that reaches the backend before the statement does (the abort
 * came a few microseconds after the query was written) is ignored by PostgreSQL, which only
 * cancels a running statement. The caller holds the connection until this returns, so the
 * backend cannot have moved on to someone else's statement.
 *
 * @returns true when the statement settled after a cancel, false when it outlived every attempt.
 */
export async function cancelStatement(pool: Pool, processId: number, statement: Promise<unknown>): Promise<boolean> {
  const settled = statement.then(
    () => true,
    () => true,
  );
  const canceller = new pg.Client({
    ...pool.options,
    connectionTimeoutMillis: (pool.options.connectionTimeoutMillis ?? 0) > 0 ? pool.options.connectionTimeoutMillis : DEFAULT_CONNECTION_TIMEOUT_MS,
    application_name: '@aidoc/patient-repo-postgres canceller',
  });
  // A socket error after connect is reported to the pending query; this only keeps a late one
  // from becoming an uncaught 'error' event.
  canceller.on('error', () => undefined);
  try {
    await canceller.connect();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      await canceller.query('select pg_cancel_backend($1)', [processId]);
      if (await settlesWithin(settled, RETRY_AFTER_MS)) return true;
    }
    return false;
  } finally {
    await canceller.end().catch(() => undefined);
  }
}

async function settlesWithin(settled: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
