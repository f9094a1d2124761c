import type { CallOptions } from '../contracts/call-options.ts';
import { PatientIdSchema, PatientRecordSchema, type PatientRecord } from '../contracts/patient-record.ts';
import type { PatientListing, PatientRepository } from '../contracts/patient-repository.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { invalidOption } from '../errors/validate-option.ts';
import { MockAdapter, type MockAdapterOptions, type MockCall, type MockControls } from './mock-adapter.ts';

export type MockPatientRepositoryMethod = 'getById' | 'list';

export type MockPatientRepositoryCall =
  | MockCall<'getById', { readonly id: string }, PatientRecord>
  | MockCall<'list', Record<string, never>, PatientListing[]>;

export interface MockPatientRepositoryOptions
  extends MockAdapterOptions<MockPatientRepositoryMethod, MockPatientRepositoryCall['input']> {
  /**
   * The stored records, keyed by their `id`. They are validated when read, as a database adapter
   * would, so a record that fails `PatientRecordSchema` makes `getById` reject INVALID_OUTPUT.
   * @default []
   */
  readonly records?: Iterable<PatientRecord>;
}

/** A PatientRepository over records in memory that records its calls and simulates latency and faults. */
export interface MockPatientRepository extends PatientRepository, MockControls<MockPatientRepositoryCall> {
  list(options?: CallOptions): Promise<PatientListing[]>;
}

/**
 * Creates a mock {@link PatientRepository}: NOT_FOUND for an unknown id, INVALID_INPUT for a
 * malformed one (checked before any simulated I/O), INVALID_OUTPUT for a stored record that fails
 * the schema.
 *
 * @example
 * ```ts
 * const patients = createMockPatientRepository({ records: [examplePatientRecord('1')], latency: { fixedMs: 30 } });
 * const record = await patients.getById('1');
 * ```
 */
export function createMockPatientRepository(options: MockPatientRepositoryOptions = {}): MockPatientRepository {
  return new SimulatedPatientRepository(options);
}

class SimulatedPatientRepository extends MockAdapter<MockPatientRepositoryCall> implements MockPatientRepository {
  readonly specificationVersion = 'v1';
  readonly provider = 'mock';
  readonly #records = new Map<string, unknown>();

  constructor(options: MockPatientRepositoryOptions) {
    super('mock-patient-repository', options);
    const records = options.records ?? [];
    if (typeof (records as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') throw invalidOption('records', 'an iterable of records', records);
    for (const record of records as Iterable<unknown>) {
      const id = typeof record === 'object' && record !== null && 'id' in record ? record.id : undefined;
      if (typeof id !== 'string') throw invalidOption('records[].id', 'a string', id);
      if (this.#records.has(id)) throw invalidOption('records', 'records with distinct ids', `duplicate id ${id}`);
      this.#records.set(id, structuredClone(record));
    }
  }

  getById(id: string, options?: CallOptions): Promise<PatientRecord> {
    return this.simulate({
      method: 'getById',
      input: { id },
      signal: options?.signal,
      items: 0,
      validate: () => {
        if (!PatientIdSchema.safeParse(id).success) {
          throw new AidocError('INVALID_INPUT', 'mock-patient-repository: a patient id is a positive integer (1 to 12 digits)', {
            details: { id: typeof id === 'string' ? id.slice(0, 32) : typeof id },
          });
        }
      },
      respond: () => {
        const stored = this.#records.get(id);
        if (stored === undefined) throw new AidocError('NOT_FOUND', `mock-patient-repository: no patient ${id}`, { details: { id } });
        const parsed = PatientRecordSchema.safeParse(stored);
        if (!parsed.success) {
          throw new AidocError('INVALID_OUTPUT', `mock-patient-repository: stored record ${id} fails PatientRecordSchema`, {
            cause: parsed.error,
            details: { id },
          });
        }
        return parsed.data;
      },
    });
  }

  list(options?: CallOptions): Promise<PatientListing[]> {
    return this.simulate({
      method: 'list',
      input: {},
      signal: options?.signal,
      items: 0,
      respond: () =>
        [...this.#records.keys()]
          .sort((left, right) => Number(left) - Number(right))
          .map((id) => ({ id, label: `Patient ${id}` })),
    });
  }
}
