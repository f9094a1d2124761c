import { PatientRecordSchema, isOutOfRange, type PatientRecord } from '@aidoc/core';
import { readFile, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleGuidelineFileNames, sampleGuidelineFiles, sampleGuidelinesDirectory, samplePatientsFile } from '../src/sample-data.ts';

async function samplePatients(): Promise<PatientRecord[]> {
  const data = JSON.parse(await readFile(samplePatientsFile, 'utf8')) as unknown[];
  return data.map((item) => PatientRecordSchema.parse(item));
}

const latest = (record: PatientRecord, name: string) =>
  record.labs.filter((lab) => lab.name === name).sort((left, right) => left.date.localeCompare(right.date)).at(-1);

describe('sample patients', () => {
  it('holds six records, ids "1" to "6", each passing PatientRecordSchema exactly', async () => {
    const raw = JSON.parse(await readFile(samplePatientsFile, 'utf8')) as unknown[];
    expect(raw).toHaveLength(6);
    for (const item of raw) {
      const parsed = PatientRecordSchema.safeParse(item);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      // Nothing the schema would strip: the file is the schema's shape, key for key.
      expect(parsed.data).toEqual(item);
    }
    expect(raw.map((item) => (item as { id: string }).id)).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('gives every patient active conditions, dosed medications, dated notes and at least one out-of-range result', async () => {
    for (const record of await samplePatients()) {
      expect(record.conditions.some((condition) => condition.status === 'active'), record.id).toBe(true);
      expect(record.medications.length, record.id).toBeGreaterThanOrEqual(3);
      for (const medication of record.medications) expect(medication.dose, medication.name).toMatch(/\d/);
      expect(record.notes.length, record.id).toBeGreaterThanOrEqual(1);
      expect(record.labs.some((lab) => isOutOfRange(lab)), record.id).toBe(true);
    }
  });

  it('carries the scenarios the demo relies on', async () => {
    const [one, two, three, four] = await samplePatients();
    // 1: falling eGFR 52 → 38 on metformin 1000 mg twice daily, with an NSAID.
    expect(one!.labs.filter((lab) => lab.name === 'eGFR').map((lab) => lab.value)).toEqual([52, 45, 38]);
    expect(one!.medications).toContainEqual(expect.objectContaining({ name: 'Metformin', dose: '1000 mg', frequency: 'twice daily' }));
    expect(one!.medications.some((medication) => medication.name === 'Ibuprofen')).toBe(true);
    // 2: potassium 5.8 on an ACE inhibitor with spironolactone.
    expect(latest(two!, 'Potassium')?.value).toBe(5.8);
    expect(two!.medications.map((medication) => medication.name)).toEqual(expect.arrayContaining(['Ramipril', 'Spironolactone']));
    // 3: INR above range on warfarin after clarithromycin.
    const inr = latest(three!, 'INR')!;
    expect(isOutOfRange(inr) && inr.value > 3).toBe(true);
    expect(three!.medications.map((medication) => medication.name)).toEqual(expect.arrayContaining(['Warfarin', 'Clarithromycin']));
    // 4: LDL above range after a myocardial infarction.
    const ldl = latest(four!, 'LDL cholesterol')!;
    expect(isOutOfRange(ldl)).toBe(true);
  });

  it('uses clearly fictional people', async () => {
    for (const record of await samplePatients()) {
      expect(record.name.family).toMatch(/Sample|Test|Placeholder|Demo|Mock|Fiction/);
      expect(record.birthDate < '1970-01-01').toBe(true);
    }
  });
});

describe('sample guidelines', () => {
  it('lists exactly the Markdown files of the guidelines directory, as absolute paths', async () => {
    const onDisk = (await readdir(sampleGuidelinesDirectory)).filter((name) => name.endsWith('.md')).sort();
    expect([...sampleGuidelineFileNames].sort()).toEqual(onDisk);
    expect(onDisk).toHaveLength(8);
    expect(sampleGuidelineFiles).toEqual(sampleGuidelineFileNames.map((name) => join(sampleGuidelinesDirectory, name)));
    for (const file of [samplePatientsFile, sampleGuidelinesDirectory, ...sampleGuidelineFiles]) expect(isAbsolute(file)).toBe(true);
  });

  it.each(sampleGuidelineFileNames)('%s opens with a title and the demo disclaimer, and has sections of short paragraphs', async (name) => {
    const text = await readFile(join(sampleGuidelinesDirectory, name), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^# \S/);
    const front = lines.slice(1).find((line) => line.trim() !== '');
    expect(front).toMatch(/Sample guidance for a software demo — not medical advice.*dated \d{4}-\d{2}-\d{2}/);
    expect(lines.filter((line) => line.startsWith('# '))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('## ')).length).toBeGreaterThanOrEqual(6);
    const words = text.split(/\s+/).filter(Boolean).length;
    expect(words).toBeGreaterThanOrEqual(600);
    expect(words).toBeLessThanOrEqual(1200);
    const paragraphs = text.split(/\n\s*\n/).filter((block) => !block.startsWith('- '));
    for (const paragraph of paragraphs) expect(paragraph.length, paragraph.slice(0, 60)).toBeLessThan(700);
  });
});
