import { AidocError, type AidocErrorCode } from '@aidoc/core';
import pg from 'pg';

/** The provider name every error of this package carries in `details.provider`. */
export const POSTGRES_PROVIDER = 'postgres';

/** What failed, for messages and `details`: never patient data beyond an id. */
export interface PostgresErrorContext {
  /** `getById`, `list`, `migrate`, `seed`. */
  readonly operation: string;
  readonly schema: string;
  readonly patientId?: string;
}

interface Classification {
  readonly code: AidocErrorCode;
  readonly retryable?: boolean;
  readonly why: string;
}

/** SQLSTATEs with a meaning of their own (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const BY_SQL_STATE: Readonly<Record<string, Classification>> = {
  // statement_timeout, or a cancel this package did not send (an administrator's pg_cancel_backend).
  '57014': { code: 'TIMEOUT', why: 'the statement was cancelled (statement_timeout)' },
  '55P03': { code: 'TIMEOUT', why: 'a lock was not available in time (lock_timeout)' },
  // max_connections or a role's / database's CONNECTION LIMIT: a quota that frees up as other
  // clients disconnect, so RATE_LIMITED (retry with backoff), not "the server is down".
  '53300': { code: 'RATE_LIMITED', why: 'the server has no connection slot left (too_many_connections)' },
  '57P01': { code: 'UPSTREAM_UNAVAILABLE', why: 'the server is shutting down (admin_shutdown)' },
  '57P02': { code: 'UPSTREAM_UNAVAILABLE', why: 'the server crashed (crash_shutdown)' },
  '57P03': { code: 'UPSTREAM_UNAVAILABLE', why: 'the server is starting up or in recovery (cannot_connect_now)' },
  '40001': { code: 'UPSTREAM_UNAVAILABLE', why: 'a serialization failure' },
  '40P01': { code: 'UPSTREAM_UNAVAILABLE', why: 'a deadlock was detected' },
  '3D000': { code: 'UPSTREAM_UNAVAILABLE', retryable: false, why: 'the database does not exist' },
  '42P01': { code: 'INTERNAL', why: 'a table is missing: run migrate() first' },
  '3F000': { code: 'INTERNAL', why: 'the schema is missing: run migrate() first' },
};

/** By SQLSTATE class (the first two characters). */
const BY_SQL_STATE_CLASS: Readonly<Record<string, Classification>> = {
  '08': { code: 'UPSTREAM_UNAVAILABLE', why: 'the connection failed' },
  '53': { code: 'UPSTREAM_UNAVAILABLE', why: 'the server ran out of a resource' },
  '28': { code: 'UPSTREAM_UNAVAILABLE', retryable: false, why: 'authentication failed' },
  '58': { code: 'UPSTREAM_UNAVAILABLE', why: 'a system error on the server' },
};

/** Node socket errors that mean "could not reach or lost the server". */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT',
]);

/**
 * Maps whatever pg threw to an AidocError with a stable code. The message names the operation,
 * the id and the SQLSTATE (or socket error code), never the server's message, which can quote
 * row values (a constraint's DETAIL, an input syntax error); that stays in `cause` for debugging.
 */
export function toPostgresAidocError(error: unknown, context: PostgresErrorContext): AidocError {
  if (AidocError.isInstance(error)) return error;
  const what = describeOperation(context);
  const details = { provider: POSTGRES_PROVIDER, operation: context.operation, schema: context.schema, ...(context.patientId === undefined ? {} : { patientId: context.patientId }) };

  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) {
    const classification = BY_SQL_STATE[sqlState] ?? BY_SQL_STATE_CLASS[sqlState.slice(0, 2)] ?? { code: 'INTERNAL', why: 'the server reported an error' };
    return new AidocError(classification.code, `PostgreSQL ${what} failed: ${classification.why} (SQLSTATE ${sqlState})`, {
      cause: error,
      ...(classification.retryable === undefined ? {} : { retryable: classification.retryable }),
      details: { ...details, sqlState },
    });
  }

  const message = error instanceof Error ? error.message : '';
  const systemCode = systemCodeOf(error);
  if (message === 'timeout exceeded when trying to connect') {
    // pg-pool's connectionTimeoutMillis ran out while every connection was busy.
    return new AidocError('TIMEOUT', `PostgreSQL ${what} failed: no pool connection came free in time`, { cause: error, details });
  }
  if (message.includes('after calling end on the pool')) {
    return new AidocError('INTERNAL', `PostgreSQL ${what} failed: the pool has been ended`, { cause: error, details });
  }
  if ((systemCode !== undefined && NETWORK_ERROR_CODES.has(systemCode)) || /connection terminated|connection timeout|connection refused/i.test(message)) {
    return new AidocError('UPSTREAM_UNAVAILABLE', `PostgreSQL ${what} failed: the server is unreachable or closed the connection${systemCode === undefined ? '' : ` (${systemCode})`}`, {
      cause: error,
      details: { ...details, ...(systemCode === undefined ? {} : { systemCode }) },
    });
  }
  return new AidocError('INTERNAL', `PostgreSQL ${what} failed unexpectedly`, { cause: error, details });
}

/** True for errors after which the connection cannot be trusted (anything the server did not report). */
export function breaksConnection(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState === undefined || sqlState.startsWith('08') || sqlState.startsWith('57P');
}

function describeOperation(context: PostgresErrorContext): string {
  return context.patientId === undefined ? context.operation : `${context.operation}(${context.patientId})`;
}

/**
 * The SQLSTATE of an error the server reported (pg's DatabaseError), else undefined. Checked by
 * shape as well as by class: an injected pool may come from another copy of pg.
 */
function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return undefined;
  const reportedByServer = error instanceof pg.DatabaseError || ('severity' in error && typeof error.severity === 'string');
  return reportedByServer && /^[0-9A-Z]{5}$/.test(error.code) ? error.code : undefined;
}

function systemCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return undefined;
  return error.code;
}
