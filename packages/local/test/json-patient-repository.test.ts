import { PatientRecordSchema, type PatientRecord, type PatientRepository } from '@aidoc/core';
import { MALFORMED_PATIENT_IDS, testPatientRepository } from '@aidoc/core/testing';
import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsonPatientRepository } from '../src/json-patient-repository.ts';
import { samplePatientsFile } from '../src/sample-data.ts';
import { rejectionOf } from '@aidoc/core/testing';

const rawPatients = JSON.parse(await readFile(samplePatientsFile, 'utf8')) as PatientRecord[];
const directory = await mkdtemp(join(tmpdir(), 'aidoc-json-patients-'));
const missingFile = join(directory, 'missing.json');

/**
 * A named pipe with no writer: reading it blocks until someone opens it for writing, which is an
 * upstream that accepts the request and never answers. `release` unblocks a pending reader.
 */
const fifo = join(directory, 'hanging.fifo');
execFileSync('mkfifo', [fifo]);
const hangingRepositories = new WeakSet<PatientRepository>();
async function release(): Promise<void> {
  try {
    const handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.close();
  } catch {
    // ENXIO: nobody is reading, nothing to release.
  }
}

afterAll(async () => {
  await release();
  await rm(directory, { recursive: true, force: true });
});

testPatientRepository({
  name: 'local-json (sample file)',
  create: () => createJsonPatientRepository({ file: samplePatientsFile }),
  knownId: '1',
  expected: rawPatients[0]!,
  faults: {
    unavailable: () => createJsonPatientRepository({ file: missingFile }),
    hanging: () => {
      const repository = createJsonPatientRepository({ file: fifo });
      hangingRepositories.add(repository);
      return repository;
    },
  },
  cleanup: async (repository) => {
    if (hangingRepositories.has(repository)) await release();
  },
});

testPatientRepository({
  name: 'local-json (in-memory records)',
  create: () => createJsonPatientRepository({ records: structuredClone(rawPatients) }),
  knownId: '6',
  expected: rawPatients[5]!,
});

async function writeJson(name: string, data: unknown): Promise<string> {
  const file = join(directory, name);
  await writeFile(file, typeof data === 'string' ? data : JSON.stringify(data));
  return file;
}

describe('createJsonPatientRepository', () => {
  it('declares the v1 contract as local-json', () => {
    const repository = createJsonPatientRepository({ file: samplePatientsFile });
    expect(repository.specificationVersion).toBe('v1');
    expect(repository.provider).toBe('local-json');
  });

  it('returns every sample record, validated, and accepts a file URL', async () => {
    const repository = createJsonPatientRepository({ file: pathToFileURL(samplePatientsFile) });
    for (const raw of rawPatients) {
      const record = await repository.getById(raw.id);
      expect(PatientRecordSchema.parse(record)).toEqual(raw);
    }
  });

  it('lists patients by id with an age and conditions, never a name', async () => {
    const listings = await createJsonPatientRepository({ file: samplePatientsFile }).list();
    expect(listings.map((listing) => listing.id)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(listings[0]!.label).toBe('Patient 1 — 71 y, T2D, CKD 3b, HTN');
    expect(listings[1]!.label).toBe('Patient 2 — 79 y, HFrEF, HTN, CKD 3a');
    for (const [index, listing] of listings.entries()) {
      const { given, family } = rawPatients[index]!.name;
      expect(listing.label).not.toContain(given);
      expect(listing.label).not.toContain(family);
      expect(listing.label).not.toContain(rawPatients[index]!.birthDate);
    }
  });

  it.each(MALFORMED_PATIENT_IDS)('refuses the malformed id %j with INVALID_INPUT, without echoing it', async (id) => {
    const error = await rejectionOf(createJsonPatientRepository({ file: samplePatientsFile }).getById(id));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.retryable).toBe(false);
    if (id.length > 3) expect(error.message).not.toContain(id);
  });

  it('refuses ids that are not strings with INVALID_INPUT', async () => {
    const repository = createJsonPatientRepository({ file: samplePatientsFile });
    for (const id of [1, null, undefined, { id: '1' }] as unknown as string[]) {
      expect((await rejectionOf(repository.getById(id))).code).toBe('INVALID_INPUT');
    }
  });

  it('rejects an unknown id with NOT_FOUND naming the id', async () => {
    const error = await rejectionOf(createJsonPatientRepository({ file: samplePatientsFile }).getById('7'));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('Patient 7 not found');
    expect(error.details).toMatchObject({ patientId: '7' });
  });

  it('returns frozen records: a caller cannot change the repository\'s data', async () => {
    const repository = createJsonPatientRepository({ file: samplePatientsFile });
    const record = await repository.getById('2');
    expect(() => {
      (record.medications as unknown[]).length = 0;
    }).toThrow(TypeError);
    expect(() => {
      (record.name as { family: string }).family = 'Changed';
    }).toThrow(TypeError);
    expect(() => {
      (record.labs[0] as { value: number }).value = 0;
    }).toThrow(TypeError);
    expect(await repository.getById('2')).toEqual(rawPatients[1]);
  });

  it('rejects ABORTED for an already-aborted signal, and mid-load as soon as the signal fires', async () => {
    const sample = createJsonPatientRepository({ file: samplePatientsFile });
    expect((await rejectionOf(sample.getById('1', { signal: AbortSignal.abort() }))).code).toBe('ABORTED');
    expect((await rejectionOf(sample.list({ signal: AbortSignal.abort() }))).code).toBe('ABORTED');

    const hanging = createJsonPatientRepository({ file: fifo });
    const controller = new AbortController();
    const call = hanging.getById('1', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const startedAt = performance.now();
    controller.abort();
    expect((await rejectionOf(call)).code).toBe('ABORTED');
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await release();
  });

  it('shares one load among concurrent first calls and keeps serving after one caller aborts', async () => {
    const file = await writeJson('shared.json', rawPatients);
    const repository = createJsonPatientRepository({ file });
    const controller = new AbortController();
    const aborted = rejectionOf(repository.getById('1', { signal: controller.signal }));
    controller.abort();
    const [record, listing] = await Promise.all([repository.getById('3'), repository.list()]);
    expect(record.id).toBe('3');
    expect(listing).toHaveLength(6);
    expect((await aborted).code).toBe('ABORTED');
  });

  it('reads the file once, unless asked to reload it when it changes', async () => {
    const file = await writeJson('reload.json', rawPatients);
    const once = createJsonPatientRepository({ file });
    const reloading = createJsonPatientRepository({ file, reloadWhenChanged: true });
    expect((await once.getById('1')).sex).toBe('male');
    expect((await reloading.getById('1')).sex).toBe('male');
    const changed = structuredClone(rawPatients);
    changed[0]!.sex = 'unknown';
    changed.push({ ...structuredClone(rawPatients[1]!), id: '7' });
    await writeJson('reload.json', changed);
    expect((await once.getById('1')).sex).toBe('male');
    expect((await rejectionOf(once.getById('7'))).code).toBe('NOT_FOUND');
    expect((await reloading.getById('1')).sex).toBe('unknown');
    expect((await reloading.getById('7')).id).toBe('7');
  });

  it('rejects a record that fails the schema with INVALID_OUTPUT naming its id and path, not its data', async () => {
    const broken = structuredClone(rawPatients);
    (broken[2]!.labs[1] as unknown as { value: unknown }).value = 'very high';
    const file = await writeJson('broken.json', broken);
    const repository = createJsonPatientRepository({ file });
    for (const call of [repository.getById('1'), repository.getById('3'), repository.list()]) {
      const error = await rejectionOf(call);
      expect(error.code).toBe('INVALID_OUTPUT');
      expect(error.message).toContain('record 2 (id 3)');
      expect(error.message).toContain('labs.1.value');
      expect(error.message).not.toContain('very high');
      expect(error.message).not.toContain(broken[2]!.name.family);
      expect(error.details).toMatchObject({ index: 2, patientId: '3', path: 'labs.1.value' });
    }
  });

  it('does not repeat a malformed id when naming a bad record', async () => {
    const broken = structuredClone(rawPatients);
    (broken[4] as unknown as { id: string }).id = 'Winifred Mockley';
    const error = await rejectionOf(createJsonPatientRepository({ records: broken }).getById('1'));
    expect(error.code).toBe('INVALID_OUTPUT');
    expect(error.message).toContain('record 4 in records');
    expect(error.message).toContain('at id');
    expect(error.message).not.toContain('Winifred');
  });

  it('rejects duplicate ids, files that are not JSON arrays, and a missing file', async () => {
    const duplicate = await rejectionOf(createJsonPatientRepository({ records: [rawPatients[0], rawPatients[0]] }).getById('1'));
    expect(duplicate.code).toBe('INVALID_OUTPUT');
    expect(duplicate.message).toContain('repeats an id');

    const notJson = await rejectionOf(createJsonPatientRepository({ file: await writeJson('not-json.json', '[{"name": "Harold Sampleton",') }).getById('1'));
    expect(notJson.code).toBe('INVALID_OUTPUT');
    expect(notJson.message).not.toContain('Harold');

    const notArray = await rejectionOf(createJsonPatientRepository({ file: await writeJson('object.json', { patients: rawPatients }) }).getById('1'));
    expect(notArray.code).toBe('INVALID_OUTPUT');

    const missing = await rejectionOf(createJsonPatientRepository({ file: missingFile }).getById('1'));
    expect(missing.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(missing.message).toContain('ENOENT');
  });

  it('retries a failed load on the next call', async () => {
    const file = join(directory, 'late.json');
    const repository = createJsonPatientRepository({ file });
    expect((await rejectionOf(repository.getById('1'))).code).toBe('UPSTREAM_UNAVAILABLE');
    await writeJson('late.json', rawPatients);
    expect((await repository.getById('1')).id).toBe('1');
  });

  it('throws a TypeError for options without records or a file', () => {
    expect(() => createJsonPatientRepository({} as never)).toThrow(/`records`.*`file`/);
    expect(() => createJsonPatientRepository({ records: 'nope' } as never)).toThrow(/Expected `records` to be an array/);
    expect(() => createJsonPatientRepository({ file: '' })).toThrow(/Expected `file`/);
    expect(() => createJsonPatientRepository(undefined as never)).toThrow(TypeError);
  });
});
