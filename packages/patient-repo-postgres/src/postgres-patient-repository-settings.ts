import type { Pool, PoolConfig } from 'pg';

/** Settings of {@link createPostgresPatientRepository}. Give `pool` or a connection string, not both. */
export interface PostgresPatientRepositorySettings {
  /**
   * A pool the application already built (as Auth.js adapters take one): the repository borrows
   * clients from it, sizes nothing and never ends it; `close()` leaves it open. The pool's own
   * settings (size, `connectionTimeoutMillis`, `statement_timeout`, TLS) stay in force.
   */
  readonly pool?: Pool;
  /**
   * Where to connect when no `pool` is given, e.g. `postgres://app@db.internal:5432/clinic`.
   * The repository then builds its own pool on first use and ends it in `close()`.
   * @default process.env.DATABASE_URL
   */
  readonly connectionString?: string;
  /**
   * The PostgreSQL schema holding the tables (created by `migrate()` when missing): letters,
   * digits and underscores, at most 63 characters. One schema per tenant or test run keeps
   * their data and migrations apart.
   * @default 'public'
   */
  readonly schema?: string;
  /**
   * Longest a `getById` or `list` statement may run, in milliseconds. Enforced on every pool
   * by a timer that cancels the backend's statement (`pg_cancel_backend`), and, on a pool the
   * repository builds, also by the server (`statement_timeout`), so a statement stops even if
   * this process dies. Either way the call rejects with `TIMEOUT`. `0` turns the limit off
   * (PostgreSQL's convention). `migrate()` and `seed()` are not limited.
   * @default 5_000
   */
  readonly statementTimeoutMs?: number;
  /**
   * Size of the pool the repository builds. Not allowed with `pool` (size that pool instead).
   * @default 10
   */
  readonly maxConnections?: number;
}

/** The settings checked, with defaults applied; `pool` or `poolConfig` is set, never both. */
export interface ResolvedPostgresSettings {
  readonly pool: Pool | undefined;
  readonly poolConfig: PoolConfig | undefined;
  readonly schema: string;
  readonly statementTimeoutMs: number;
}

/** The environment variable read when neither `pool` nor `connectionString` is given. */
export const CONNECTION_STRING_ENVIRONMENT_VARIABLE = 'DATABASE_URL';

const DEFAULT_SCHEMA = 'public';
const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_CONNECTIONS = 10;
/** How long the built pool waits for a connection (to open, or to free up) before failing. */
const CONNECTION_TIMEOUT_MS = 5_000;
/** Node clamps longer timer delays to 1 ms. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const SETTING_NAMES: ReadonlySet<string> = new Set(['pool', 'connectionString', 'schema', 'statementTimeoutMs', 'maxConnections']);

/**
 * Checks the settings where they enter (p-queue style `TypeError`s naming the option, and the
 * environment variable where one applies) and applies the defaults.
 */
export function resolvePostgresSettings(
  settings: PostgresPatientRepositorySettings | undefined,
  environment: Readonly<Record<string, string | undefined>>,
): ResolvedPostgresSettings {
  if (settings !== undefined && (typeof settings !== 'object' || settings === null)) throw invalidSetting('settings', 'an object', settings);
  const given = settings ?? {};
  for (const name of Object.keys(given)) {
    if (!SETTING_NAMES.has(name)) {
      throw new TypeError(`Unknown setting \`${name}\`; expected only ${[...SETTING_NAMES].map((key) => `\`${key}\``).join(', ')}`);
    }
  }
  const { pool, connectionString, maxConnections } = given;

  const schema = given.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) {
    throw invalidSetting('schema', 'a PostgreSQL identifier (letters, digits and underscores, not starting with a digit, at most 63 characters)', schema);
  }
  const statementTimeoutMs = given.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (typeof statementTimeoutMs !== 'number' || !Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0 || statementTimeoutMs > MAX_TIMER_DELAY_MS) {
    throw invalidSetting('statementTimeoutMs', `an integer number of milliseconds from 0 (no limit) to ${MAX_TIMER_DELAY_MS}`, statementTimeoutMs);
  }

  if (pool !== undefined) {
    if (!isPool(pool)) throw invalidSetting('pool', 'a pg.Pool (an object with `connect` and `query`)', pool);
    if (connectionString !== undefined) throw invalidSetting('connectionString', 'absent when `pool` is given (the pool already says where to connect)', connectionString);
    if (maxConnections !== undefined) throw invalidSetting('maxConnections', 'absent when `pool` is given (size the pool itself with its `max`)', maxConnections);
    return { pool, poolConfig: undefined, schema, statementTimeoutMs };
  }

  const resolvedConnectionString = connectionString ?? environment[CONNECTION_STRING_ENVIRONMENT_VARIABLE];
  if (typeof resolvedConnectionString !== 'string' || resolvedConnectionString.trim() === '') {
    const origin = connectionString === undefined ? `the ${CONNECTION_STRING_ENVIRONMENT_VARIABLE} environment variable` : '`connectionString`';
    throw invalidSetting(
      'connectionString',
      `a PostgreSQL connection string (set \`connectionString\`, or the ${CONNECTION_STRING_ENVIRONMENT_VARIABLE} environment variable, or pass \`pool\`); ${origin} is empty or missing`,
      resolvedConnectionString,
    );
  }
  const max = maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) throw invalidSetting('maxConnections', 'a positive integer', max);
  return {
    pool: undefined,
    poolConfig: {
      connectionString: resolvedConnectionString,
      max,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      application_name: '@aidoc/patient-repo-postgres',
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    },
    schema,
    statementTimeoutMs,
  };
}

function isPool(value: unknown): value is Pool {
  return typeof value === 'object' && value !== null && 'connect' in value && typeof value.connect === 'function' && 'query' in value && typeof value.query === 'function';
}

/** "Expected `name` to be expected, got `value` (type)"; never echoes a connection string (it may hold a password). */
function invalidSetting(name: string, expected: string, value: unknown): TypeError {
  const shown = name === 'connectionString' && typeof value === 'string' ? '<redacted>' : describe(value);
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${shown}\` (${typeof value})`);
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
