import { AidocError, abortError, throwIfAborted } from '@aidoc/core';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { cancelStatement } from './postgres-cancel-statement.ts';
import { breaksConnection, toPostgresAidocError, type PostgresErrorContext } from './postgres-errors.ts';

/** One parameterized statement, run on a pooled client with cancellation. */
export interface PostgresQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly signal: AbortSignal | undefined;
  readonly context: PostgresErrorContext;
}

/** Runs statements on borrowed pool clients; abort and the statement timeout cancel them on the server. */
export interface PostgresQueryRunner {
  /** The rows of one statement. Rejects ABORTED, TIMEOUT or a mapped pg failure. */
  query<Row extends QueryResultRow>(query: PostgresQuery): Promise<Row[]>;
  /** Borrows one client for `work` (a transaction); gives it back, or discards it when the work broke it. */
  withClient<Result>(context: PostgresErrorContext, work: (client: PoolClient) => Promise<Result>): Promise<Result>;
  /** Resolves once every interrupted statement is cancelled and its client discarded. */
  drain(): Promise<void>;
}

/**
 * The cancellation design: pg has no per-query AbortSignal, so an abort (or the statement
 * timeout) rejects the call at once, then, in the background, cancels the backend's statement
 * from another connection (`pg_cancel_backend`, see `cancelStatement`) and discards the client
 * (`release(true)`) rather than return a connection whose state is uncertain to the pool. The
 * background work is tracked so `close()` (and tests) can wait for it: no client leaks.
 */
export function createPostgresQueryRunner(getPool: () => Pool, statementTimeoutMs: number): PostgresQueryRunner {
  const interrupted = new Set<Promise<void>>();

  /** Keeps background clean-up (a cancel, a late client to give back) visible to `drain()`. */
  const track = (work: Promise<void>): void => {
    interrupted.add(work);
    void work.finally(() => interrupted.delete(work));
  };

  const discard = (pool: Pool, lease: Lease, processId: number, statement: Promise<unknown>): void => {
    lease.returned = true;
    const cleanup = cancelStatement(pool, processId, statement)
      // If the cancel cannot be sent, destroying the connection is all that is left: the backend
      // then runs on until the statement ends or meets the server's statement_timeout.
      .catch(() => false)
      .then(() => {
        lease.client.removeListener('error', ignoreClientError);
        try {
          lease.client.release(true);
        } catch {
          // Already gone (the pool was ended under it): nothing is left to give back.
        }
      });
    track(cleanup);
  };

  const run = async <Row extends QueryResultRow>(pool: Pool, lease: Lease, query: PostgresQuery): Promise<Row[]> => {
    const { signal, context } = query;
    const { client } = lease;
    const processId = await backendProcessId(client);
    if (signal?.aborted === true) {
      giveBack(lease);
      throw abortError(signal);
    }
    return new Promise<Row[]>((resolve, reject) => {
      let settled = false;
      const statement = client.query<Row>(query.text, [...query.values]);
      const finish = (): void => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const interrupt = (error: AidocError): void => {
        if (settled) return;
        finish();
        reject(error);
        discard(pool, lease, processId, statement);
      };
      const onAbort = (): void => interrupt(abortError(signal!));
      const timer =
        statementTimeoutMs > 0
          ? setTimeout(
              () =>
                interrupt(
                  new AidocError('TIMEOUT', `PostgreSQL ${describe(context)} ran past statementTimeoutMs (${statementTimeoutMs} ms); the statement is cancelled on the server`, {
                    details: { provider: 'postgres', operation: context.operation, schema: context.schema, statementTimeoutMs, ...patientIdOf(context) },
                  }),
                ),
              statementTimeoutMs,
            )
          : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      statement.then(
        (result) => {
          if (settled) return;
          finish();
          giveBack(lease);
          resolve(result.rows);
        },
        (error: unknown) => {
          if (settled) return;
          finish();
          giveBack(lease, breaksConnection(error));
          reject(toPostgresAidocError(error, context));
        },
      );
    });
  };

  return {
    async query<Row extends QueryResultRow>(query: PostgresQuery): Promise<Row[]> {
      throwIfAborted(query.signal);
      const pool = getPool();
      const lease = await acquire(pool, query.signal, query.context, track);
      try {
        return await run<Row>(pool, lease, query);
      } catch (error) {
        // `run` gives the client back itself once the statement is sent; this covers a failure before.
        giveBack(lease, true);
        throw toPostgresAidocError(error, query.context);
      }
    },

    async withClient<Result>(context: PostgresErrorContext, work: (client: PoolClient) => Promise<Result>): Promise<Result> {
      const lease = await acquire(getPool(), undefined, context, track);
      try {
        const result = await work(lease.client);
        giveBack(lease, !outsideTransaction(lease.client));
        return result;
      } catch (error) {
        // A transaction left open (its rollback failed) must not reach the next borrower.
        giveBack(lease, breaksConnection(error) || !outsideTransaction(lease.client));
        throw toPostgresAidocError(error, context);
      }
    },

    async drain(): Promise<void> {
      while (interrupted.size > 0) await Promise.all(interrupted);
    },
  };
}

/** One borrowing of a pool client; `returned` keeps the error paths from releasing it twice. */
interface Lease {
  readonly client: PoolClient;
  returned: boolean;
}

function giveBack(lease: Lease, broken = false): void {
  if (lease.returned) return;
  lease.returned = true;
  lease.client.removeListener('error', ignoreClientError);
  lease.client.release(broken);
}

/**
 * Borrows a client; an abort while the pool makes the caller wait rejects at once, and the
 * client, when it comes, goes straight back to the pool.
 */
function acquire(pool: Pool, signal: AbortSignal | undefined, context: PostgresErrorContext, track: (work: Promise<void>) => void): Promise<Lease> {
  const borrowed = (client: PoolClient): Lease => {
    // Between statements a checked-out client has no listener of the pool's: a dying socket
    // would otherwise be an uncaught 'error' event. The failure reaches the next query anyway.
    client.on('error', ignoreClientError);
    return { client, returned: false };
  };
  if (signal === undefined) {
    return pool.connect().then(borrowed, (error: unknown) => {
      throw toPostgresAidocError(error, context);
    });
  }
  return new Promise<Lease>((resolve, reject) => {
    let abandoned = false;
    const connecting = pool.connect().then(
      (client) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) client.release();
        else resolve(borrowed(client));
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!abandoned) reject(toPostgresAidocError(error, context));
      },
    );
    const onAbort = (): void => {
      abandoned = true;
      reject(abortError(signal));
      track(connecting);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when the client is idle outside any transaction (pg reports 'I'); unknown counts as true. */
function outsideTransaction(client: PoolClient): boolean {
  const status: unknown = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : 'I';
  return status === 'I' || status === null;
}

function ignoreClientError(): void {
  // See `acquire`.
}

/** Backend process ids of clients that do not expose pg's `processID` (looked up once per connection). */
const processIds = new WeakMap<PoolClient, number>();

/** The backend's process id, to cancel its statement: pg's client learns it at connect (BackendKeyData). */
async function backendProcessId(client: PoolClient): Promise<number> {
  const known: unknown = Reflect.get(client, 'processID');
  if (typeof known === 'number' && Number.isInteger(known) && known > 0) return known;
  const cached = processIds.get(client);
  if (cached !== undefined) return cached;
  const result = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const processId = result.rows[0]?.pid;
  if (processId === undefined) throw new AidocError('INTERNAL', 'PostgreSQL did not report the backend process id');
  processIds.set(client, processId);
  return processId;
}

function describe(context: PostgresErrorContext): string {
  return context.patientId === undefined ? context.operation : `${context.operation}(${context.patientId})`;
}

function patientIdOf(context: PostgresErrorContext): { patientId?: string } {
  return context.patientId === undefined ? {} : { patientId: context.patientId };
}
