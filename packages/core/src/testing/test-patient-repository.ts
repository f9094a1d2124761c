import assert from 'node:assert/strict';
import { PatientIdSchema, PatientRecordSchema, type PatientRecord } from '../contracts/patient-record.ts';
import type { PatientRepository } from '../contracts/patient-repository.ts';
import { invalidOption } from '../errors/validate-option.ts';
import { describeError, expectAidocError } from './conformance-assertions.ts';
import { applySkips, skipCheck, validateConformanceOptions, withAdapter, type ConformanceCheck, type ConformanceOptions } from './conformance-check.ts';
import { faultChecks } from './fault-checks.ts';
import { registerConformanceSuite } from './register-conformance-suite.ts';

export interface PatientRepositoryConformanceOptions<R extends PatientRepository = PatientRepository> extends ConformanceOptions<R> {
  /** Runs after each check with the instance it used. */
  readonly cleanup?: (repository: R) => void | Promise<void>;
  /** The id of a patient the upstream holds (seed it before the suite runs). */
  readonly knownId: string;
  /**
   * The record stored under `knownId`, compared in full with what `getById` returns: the suite
   * then checks the mapping, not just the shape (as Auth.js checks against the database).
   */
  readonly expected?: PatientRecord;
  /**
   * A well-formed id the upstream does not hold.
   * @default '999999999999'
   */
  readonly unknownId?: string;
  /** Registers the adapter's own tests inside the suite's `describe`. */
  readonly additionalTests?: () => void;
}

/** Malformed ids every repository must refuse with INVALID_INPUT, before any query runs. */
export const MALFORMED_PATIENT_IDS: readonly string[] = ['abc', '1; DROP TABLE patients', '', '-1', '0', '01', '1.5', ' 1', '1234567890123'];

/** The PatientRepository conformance checks as plain async functions (see {@link testPatientRepository}). */
export function patientRepositoryConformanceChecks<R extends PatientRepository>(options: PatientRepositoryConformanceOptions<R>): ConformanceCheck[] {
  validateConformanceOptions(options);
  const { knownId, cleanup } = options;
  const unknownId = options.unknownId ?? '999999999999';
  for (const [name, id] of [['knownId', knownId], ['unknownId', unknownId]] as const) {
    if (!PatientIdSchema.safeParse(id).success) throw invalidOption(name, 'a well-formed patient id (a positive integer string)', id);
  }
  if (knownId === unknownId) throw invalidOption('unknownId', 'an id other than knownId', unknownId);
  const use = (fn: (repository: R) => Promise<void>): Promise<void> => withAdapter(options.create, cleanup, fn);
  const signal = (): { signal: AbortSignal } => ({ signal: new AbortController().signal });

  const checks: ConformanceCheck[] = [
    {
      name: 'declares its capabilities',
      run: () =>
        use(async (repository) => {
          assert.equal(repository.specificationVersion, 'v1', 'specificationVersion');
          assert.ok(typeof repository.provider === 'string' && repository.provider !== '', 'provider must be a non-empty string');
          assert.ok(repository.list === undefined || typeof repository.list === 'function', 'list must be a function when present');
          await Promise.resolve();
        }),
    },
    {
      name: 'getById of a known id returns a record that passes PatientRecordSchema',
      run: () =>
        use(async (repository) => {
          const record = await repository.getById(knownId, signal());
          const parsed = PatientRecordSchema.safeParse(record);
          assert.ok(parsed.success, `the record fails PatientRecordSchema: ${parsed.error?.message ?? ''}`);
          assert.equal(record.id, knownId, 'the record carries the id asked for');
          if (options.expected !== undefined) assert.deepEqual(record, options.expected, 'the record differs from the one stored');
        }),
    },
    {
      name: 'getById of an unknown id rejects NOT_FOUND (not retryable)',
      run: () =>
        use(async (repository) => {
          const error = await expectAidocError(repository.getById(unknownId, signal()), 'NOT_FOUND', `getById(${JSON.stringify(unknownId)})`);
          assert.equal(error.retryable, false, 'NOT_FOUND must not be retryable');
        }),
    },
    {
      name: 'getById of a malformed id rejects INVALID_INPUT before reaching the upstream',
      run: () =>
        use(async (repository) => {
          const before = options.upstreamCalls?.(repository);
          const problems: string[] = [];
          for (const id of MALFORMED_PATIENT_IDS) {
            try {
              await expectAidocError(repository.getById(id, signal()), 'INVALID_INPUT', `getById(${JSON.stringify(id)})`);
            } catch (error) {
              problems.push(describeError(error));
            }
          }
          assert.deepEqual(problems, [], 'malformed ids must reject INVALID_INPUT');
          if (before !== undefined) assert.equal(options.upstreamCalls?.(repository), before, 'a malformed id reached the upstream');
        }),
    },
    {
      name: 'list, when offered, names patients that getById finds',
      run: (control) =>
        use(async (repository) => {
          if (repository.list === undefined) return skipCheck(control, 'the repository does not offer list');
          const listings = await repository.list(signal());
          assert.ok(Array.isArray(listings), 'list must resolve to an array');
          const ids = new Set<string>();
          for (const listing of listings) {
            assert.ok(PatientIdSchema.safeParse(listing.id).success, `listed id ${JSON.stringify(listing.id)} is malformed`);
            assert.ok(typeof listing.label === 'string' && listing.label !== '', `listing ${listing.id} needs a label`);
            assert.ok(!ids.has(listing.id), `list names ${listing.id} twice`);
            ids.add(listing.id);
          }
          const first = listings[0];
          if (first !== undefined) assert.equal((await repository.getById(first.id, signal())).id, first.id, 'getById of the first listed id');
        }),
    },
    ...faultChecks(options, { label: 'getById', invoke: (repository, abortSignal) => repository.getById(knownId, { signal: abortSignal }), cleanup }),
  ];
  return applySkips(checks, options.skip);
}

/**
 * Registers the PatientRepository conformance suite (vitest): a known record validates (and
 * equals `expected` when given), unknown ids are NOT_FOUND, malformed ids INVALID_INPUT, then
 * abort and fault behaviour for each fixture given.
 *
 * @example
 * ```ts
 * testPatientRepository({
 *   name: 'postgres',
 *   create: () => createPostgresPatientRepository({ pool }),
 *   knownId: '1',
 *   expected: examplePatientRecord('1'),
 *   upstreamCalls: () => queryCounter.count,
 * });
 * ```
 */
export function testPatientRepository<R extends PatientRepository>(options: PatientRepositoryConformanceOptions<R>): void {
  registerConformanceSuite(`PatientRepository conformance: ${options.name}`, patientRepositoryConformanceChecks(options), options.additionalTests);
}
