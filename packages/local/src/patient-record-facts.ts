import type { Condition, PatientRecord } from '@aidoc/core';

/**
 * The date of the most recent dated entry in a record (a lab, a note, a medication start or a
 * condition onset), as `YYYY-MM-DD`; undefined when nothing is dated. Ages are computed at this
 * date rather than at "today", so a record always describes the patient the same way (the
 * offline model is deterministic, and sample data does not age).
 */
export function latestEntryDate(record: PatientRecord): string | undefined {
  let latest: string | undefined;
  // ISO dates sort as strings.
  const consider = (date: string | undefined): void => {
    if (date !== undefined && (latest === undefined || date > latest)) latest = date;
  };
  for (const lab of record.labs) consider(lab.date);
  for (const note of record.notes) consider(note.date);
  for (const medication of record.medications) consider(medication.startDate);
  for (const condition of record.conditions) consider(condition.onsetDate);
  return latest;
}

/** Whole years between two ISO dates (`YYYY-MM-DD`). */
export function ageInYears(birthDate: string, onDate: string): number {
  const [birthYear, birthMonth, birthDay] = birthDate.split('-').map(Number) as [number, number, number];
  const [year, month, day] = onDate.split('-').map(Number) as [number, number, number];
  const hadBirthday = month > birthMonth || (month === birthMonth && day >= birthDay);
  return year - birthYear - (hadBirthday ? 0 : 1);
}

/** The patient's age at the latest dated entry of the record; undefined when nothing is dated. */
export function ageAtLatestEntry(record: PatientRecord): number | undefined {
  return ageOnDate(record, latestEntryDate(record));
}

/** The patient's age on a date; undefined without a date or before the birth date. */
export function ageOnDate(record: PatientRecord, date: string | undefined): number | undefined {
  return date === undefined || date < record.birthDate ? undefined : ageInYears(record.birthDate, date);
}

const SHORT_NAMES: readonly (readonly [RegExp, string | ((match: RegExpExecArray) => string)])[] = [
  [/type 2 diabetes/i, 'T2D'],
  [/type 1 diabetes/i, 'T1D'],
  [/chronic kidney disease(?:.*?stage\s*([1-5][ab]?))?/i, (match) => (match[1] === undefined ? 'CKD' : `CKD ${match[1]}`)],
  [/heart failure with reduced|hfref/i, 'HFrEF'],
  [/heart failure/i, 'HF'],
  [/hypertension/i, 'HTN'],
  [/atrial fibrillation/i, 'AF'],
  [/chronic obstructive pulmonary|copd/i, 'COPD'],
  [/coronary|myocardial infarction|ischaemic heart|ischemic heart|angina/i, 'CAD'],
  [/hypercholesterol|hyperlipid|dyslipid/i, 'high cholesterol'],
];

/** A short, conventional name for a condition ("T2D", "CKD 3b"); the lower-cased name otherwise. */
export function conditionShortName(condition: Condition): string {
  for (const [pattern, short] of SHORT_NAMES) {
    const match = pattern.exec(condition.name);
    if (match !== null) return typeof short === 'string' ? short : short(match);
  }
  return condition.name.toLowerCase();
}
