import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  AidocError,
  PatientIdSchema,
  PatientRecordSchema,
  abortError,
  throwIfAborted,
  type CallOptions,
  type PatientListing,
  type PatientRecord,
  type PatientRepository,
} from '@aidoc/core';
import { deepFreeze } from './deep-freeze.ts';
import { ageAtLatestEntry, conditionShortName } from './patient-record-facts.ts';

/** Where the records come from: given in memory, or a JSON file holding an array of records. */
export type JsonPatientRepositoryOptions =
  | {
      /** Records as plain data (e.g. parsed JSON); validated on first use. */
      readonly records: readonly unknown[];
    }
  | {
      /** Path (or `file:` URL) of a JSON file holding an array of records, read on first use. */
      readonly file: string | URL;
      /**
       * Check the file's modification time and size on every call and read it again when they
       * changed, so edits to the sample data show without a restart.
       * @default false
       */
      readonly reloadWhenChanged?: boolean;
    };

/** A PatientRepository that always offers `list()`. */
export interface JsonPatientRepository extends PatientRepository {
  /**
   * Every patient, ordered by id, with a label such as "Patient 1 — 71 y, T2D, CKD 3b": the age
   * at the record's latest entry and up to three active conditions, never a name. Meant for a
   * demo's patient picker over synthetic data.
   */
  list(options?: CallOptions): Promise<PatientListing[]>;
}

interface LoadedRecords {
  readonly byId: ReadonlyMap<string, PatientRecord>;
  /** mtime and size of the file when it was read; undefined for in-memory records. */
  readonly version: string | undefined;
}

const PROVIDER = 'local-json';
const MAX_CONDITIONS_IN_LABEL = 3;

/**
 * A patient repository over JSON data: an array of records given in memory or read from a file
 * (the sample data ships as `samplePatientsFile`). The data is read and validated against
 * `PatientRecordSchema` once, on first use, and shared by concurrent first calls.
 *
 * - `getById` rejects with `INVALID_INPUT` for a malformed id (the id is not echoed),
 *   `NOT_FOUND` for an unknown one, and `ABORTED` as soon as the signal fires.
 * - A record that fails the schema rejects every call with `INVALID_OUTPUT`, naming the record's
 *   position, its id and the failing field path, never the patient's data.
 * - A file that cannot be read rejects with `UPSTREAM_UNAVAILABLE` (retryable: the next call
 *   reads it again); one that is not a JSON array rejects with `INVALID_OUTPUT`.
 *
 * Returned records are frozen (deeply) and shared by every call: a caller cannot change the
 * repository's data, and a briefing costs no copy of its record.
 *
 * @example
 * ```ts
 * const patients = createJsonPatientRepository({ file: samplePatientsFile });
 * const record = await patients.getById('1', { signal });
 * ```
 */
export function createJsonPatientRepository(options: JsonPatientRepositoryOptions): JsonPatientRepository {
  const source = resolveSource(options);
  let loaded: Promise<LoadedRecords> | undefined;

  const load = async (): Promise<LoadedRecords> => {
    if (loaded !== undefined && source.reloadWhenChanged) {
      const [current, version] = await Promise.all([loaded, fileVersion(source.file!)]);
      if (current.version !== version) loaded = undefined;
    }
    if (loaded === undefined) {
      const attempt = source.file === undefined ? Promise.resolve(indexRecords(source.records!, 'records', undefined)) : readRecordsFile(source.file);
      loaded = attempt;
      // A failed load is not cached: the next call tries again (the file may be fixed by then).
      attempt.catch(() => {
        if (loaded === attempt) loaded = undefined;
      });
    }
    return loaded;
  };

  return {
    specificationVersion: 'v1',
    provider: PROVIDER,

    async getById(id: string, callOptions?: CallOptions): Promise<PatientRecord> {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const parsedId = PatientIdSchema.safeParse(id);
      if (!parsedId.success) {
        throw new AidocError('INVALID_INPUT', `Invalid patient id: ${parsedId.error.issues[0]?.message ?? 'malformed'}`, {
          details: { provider: PROVIDER },
        });
      }
      const { byId } = await abortable(load(), signal);
      const record = byId.get(parsedId.data);
      if (record === undefined) {
        throw new AidocError('NOT_FOUND', `Patient ${parsedId.data} not found`, { details: { provider: PROVIDER, patientId: parsedId.data } });
      }
      return record;
    },

    async list(callOptions?: CallOptions): Promise<PatientListing[]> {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const { byId } = await abortable(load(), signal);
      return [...byId.values()]
        .sort((left, right) => Number(left.id) - Number(right.id))
        .map((record) => ({ id: record.id, label: patientLabel(record) }));
    },
  };
}

function resolveSource(options: JsonPatientRepositoryOptions): {
  readonly records: readonly unknown[] | undefined;
  readonly file: string | undefined;
  readonly reloadWhenChanged: boolean;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected \`options\` to be an object with \`records\` or \`file\`, got \`${String(options)}\` (${typeof options})`);
  }
  if ('records' in options) {
    if (!Array.isArray(options.records)) {
      throw new TypeError(`Expected \`records\` to be an array, got \`${String(options.records)}\` (${typeof options.records})`);
    }
    return { records: options.records, file: undefined, reloadWhenChanged: false };
  }
  if ('file' in options) {
    const { file } = options;
    if (file instanceof URL) return { records: undefined, file: fileURLToPath(file), reloadWhenChanged: options.reloadWhenChanged === true };
    if (typeof file !== 'string' || file.length === 0) {
      throw new TypeError(`Expected \`file\` to be a non-empty path or a file URL, got \`${String(file)}\` (${typeof file})`);
    }
    return { records: undefined, file, reloadWhenChanged: options.reloadWhenChanged === true };
  }
  throw new TypeError('Expected `options` to have `records` (an array) or `file` (a path), got neither');
}

async function fileVersion(file: string): Promise<string> {
  try {
    const stats = await stat(file);
    return `${stats.mtimeMs}:${stats.size}`;
  } catch (error) {
    throw unreadable(file, error);
  }
}

async function readRecordsFile(file: string): Promise<LoadedRecords> {
  let text: string;
  let version: string;
  try {
    // The version is taken before the read, so a write during the read triggers another reload.
    version = await fileVersion(file);
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw AidocError.isInstance(error) ? error : unreadable(file, error);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // The parser's message may quote the file's content (patient data): keep it in `cause` only.
    throw new AidocError('INVALID_OUTPUT', `The patients file ${file} is not valid JSON`, { cause: error, details: { provider: PROVIDER, file } });
  }
  if (!Array.isArray(data)) {
    throw new AidocError('INVALID_OUTPUT', `The patients file ${file} must hold a JSON array of patient records`, { details: { provider: PROVIDER, file } });
  }
  return indexRecords(data, file, version);
}

function unreadable(file: string, error: unknown): AidocError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown error';
  return new AidocError('UPSTREAM_UNAVAILABLE', `Cannot read the patients file ${file} (${code})`, { cause: error, details: { provider: PROVIDER, file } });
}

function indexRecords(data: readonly unknown[], origin: string, version: string | undefined): LoadedRecords {
  const byId = new Map<string, PatientRecord>();
  data.forEach((item, index) => {
    const parsed = PatientRecordSchema.safeParse(item);
    const idText = safeId(item);
    const which = `record ${index}${idText === undefined ? '' : ` (id ${idText})`} in ${origin}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
      // zod's messages describe the expectation, not the value, so they carry no patient data.
      throw new AidocError(
        'INVALID_OUTPUT',
        `Patient ${which} does not match PatientRecordSchema at ${path}: ${issue?.message ?? 'invalid'}` +
          (parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more issue(s))` : ''),
        { details: { provider: PROVIDER, index, patientId: idText, path, issueCount: parsed.error.issues.length } },
      );
    }
    if (byId.has(parsed.data.id)) {
      throw new AidocError('INVALID_OUTPUT', `Patient ${which} repeats an id already used by an earlier record`, {
        details: { provider: PROVIDER, index, patientId: parsed.data.id },
      });
    }
    byId.set(parsed.data.id, deepFreeze(parsed.data));
  });
  return { byId, version };
}

/** The record's id when it is a well-formed patient id (anything else may be patient data). */
function safeId(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || !('id' in item)) return undefined;
  return PatientIdSchema.safeParse(item.id).success ? (item.id as string) : undefined;
}

function patientLabel(record: PatientRecord): string {
  const age = ageAtLatestEntry(record);
  const conditions = [
    ...new Set(record.conditions.filter((condition) => condition.status === 'active').map((condition) => conditionShortName(condition))),
  ].slice(0, MAX_CONDITIONS_IN_LABEL);
  const parts = [...(age === undefined ? [] : [`${age} y`]), ...conditions];
  return parts.length === 0 ? `Patient ${record.id}` : `Patient ${record.id} — ${parts.join(', ')}`;
}

/**
 * Waits for a shared promise but gives up as soon as this caller's signal fires; the shared work
 * goes on for the other callers. The listener is removed either way.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
