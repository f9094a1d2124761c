import { isOutOfRange, type Condition, type LabResult, type PatientRecord } from '@aidoc/core';
import { classifyMedication, type ClassifiedMedication, type DrugClass } from './offline-formulary.ts';
import { memoise } from './offline-memo.ts';
import { ageOnDate, latestEntryDate } from './patient-record-facts.ts';

/** The conditions the offline rules recognise (by ICD-10 code prefix or by name). */
export type ConditionKind =
  | 'type-2-diabetes'
  | 'hypertension'
  | 'chronic-kidney-disease'
  | 'heart-failure'
  | 'heart-failure-reduced-ejection-fraction'
  | 'atrial-fibrillation'
  | 'copd'
  | 'asthma'
  | 'cardiovascular-disease'
  | 'hyperlipidaemia';

const CONDITION_RULES: readonly { readonly kind: ConditionKind; readonly codes: RegExp; readonly name: RegExp }[] = [
  { kind: 'type-2-diabetes', codes: /^E11/i, name: /type 2 diabetes|\bt2dm?\b/i },
  { kind: 'hypertension', codes: /^I1[0-5]/i, name: /hypertension/i },
  { kind: 'chronic-kidney-disease', codes: /^N18/i, name: /chronic kidney disease|\bckd\b/i },
  { kind: 'heart-failure', codes: /^I50/i, name: /heart failure/i },
  { kind: 'heart-failure-reduced-ejection-fraction', codes: /^I50\.2/i, name: /reduced ejection fraction|hfref|systolic heart failure/i },
  { kind: 'atrial-fibrillation', codes: /^I48/i, name: /atrial fibrillation/i },
  { kind: 'copd', codes: /^J44/i, name: /chronic obstructive pulmonary|\bcopd\b/i },
  { kind: 'asthma', codes: /^J45/i, name: /asthma/i },
  {
    kind: 'cardiovascular-disease',
    codes: /^I2[0-5]|^I6[3-4]|^G45|^I73\.9|^I70/i,
    name: /coronary|myocardial infarction|angina|ischaemic heart|ischemic heart|stroke|transient ischaemic|peripheral arterial/i,
  },
  { kind: 'hyperlipidaemia', codes: /^E78/i, name: /hypercholesterol|hyperlipid|dyslipid/i },
];

/** The laboratory measurements the offline rules recognise (by LOINC code or by name). */
export type LabKind =
  | 'egfr'
  | 'creatinine'
  | 'potassium'
  | 'sodium'
  | 'hba1c'
  | 'ldl-cholesterol'
  | 'inr'
  | 'natriuretic-peptide'
  | 'haemoglobin'
  | 'eosinophils'
  | 'body-weight'
  | 'fev1'
  | 'albumin-creatinine-ratio';

const LAB_RULES: readonly { readonly kind: LabKind; readonly codes: readonly string[]; readonly name: RegExp }[] = [
  { kind: 'albumin-creatinine-ratio', codes: ['9318-7', '14959-1', '14958-3'], name: /albumin.*creatinine|\bu?acr\b/i },
  { kind: 'egfr', codes: ['33914-3', '62238-1', '98979-8', '48642-3', '48643-1', '50044-7', '69405-9'], name: /\begfr\b|glomerular filtration/i },
  { kind: 'creatinine', codes: ['2160-0', '14682-9', '38483-4'], name: /^(serum |plasma )?creatinine$/i },
  { kind: 'potassium', codes: ['2823-3', '6298-4'], name: /potassium|^k\+?$/i },
  { kind: 'sodium', codes: ['2951-2', '2947-0'], name: /sodium|^na\+?$/i },
  { kind: 'hba1c', codes: ['4548-4', '17856-6', '59261-8'], name: /hba1c|\ba1c\b|glycated ha?emoglobin/i },
  { kind: 'ldl-cholesterol', codes: ['13457-7', '18262-6', '2089-1', '22748-8', '39469-2'], name: /\bldl\b/i },
  { kind: 'inr', codes: ['6301-6', '34714-6', '46418-0'], name: /\binr\b|international normali[sz]ed ratio/i },
  { kind: 'natriuretic-peptide', codes: ['33762-6', '30934-4', '42637-9'], name: /bnp|natriuretic/i },
  { kind: 'haemoglobin', codes: ['718-7'], name: /^(ha?emoglobin|hb|hgb)$/i },
  { kind: 'eosinophils', codes: ['711-2', '26449-9'], name: /eosinophil/i },
  { kind: 'body-weight', codes: ['29463-7', '3141-9'], name: /^(body )?weight$/i },
  { kind: 'fev1', codes: ['20150-9', '19926-5', '20149-1'], name: /\bfev1\b/i },
];

/** All results of one measurement, oldest first. */
export interface LabSeries {
  readonly kind: LabKind | undefined;
  readonly results: readonly LabResult[];
  readonly latest: LabResult;
}

/** What the offline rules read from a record, computed once per turn. */
export interface PatientFacts {
  readonly record: PatientRecord;
  /** Age at the latest dated entry; undefined when nothing is dated. */
  readonly age: number | undefined;
  readonly latestDate: string | undefined;
  readonly activeConditions: readonly Condition[];
  readonly conditionKinds: ReadonlySet<ConditionKind>;
  readonly medications: readonly ClassifiedMedication[];
  readonly drugClasses: ReadonlySet<DrugClass>;
  /** One series per measurement, in the order the record first lists them. */
  readonly labSeries: readonly LabSeries[];
  /** All clinical note text, newest first, for phrases the rules look for. */
  readonly notesText: string;
}

export function derivePatientFacts(record: PatientRecord): PatientFacts {
  const activeConditions = record.conditions.filter((condition) => condition.status === 'active');
  const conditionKinds = new Set<ConditionKind>();
  for (const condition of activeConditions) {
    // A rule recognises a condition by its code or by its name.
    if (condition.code !== undefined) for (const kind of conditionKindsByCode(condition.code)) conditionKinds.add(kind);
    for (const kind of conditionKindsByName(condition.name)) conditionKinds.add(kind);
  }
  if (conditionKinds.has('heart-failure-reduced-ejection-fraction')) conditionKinds.add('heart-failure');
  const medications = record.medications.map((medication) => classifyMedication(medication));
  const drugClasses = new Set(medications.flatMap((medication) => [...medication.classes]));
  const notesText = [...record.notes]
    .sort((left, right) => (left.date < right.date ? 1 : left.date > right.date ? -1 : 0))
    .map((note) => note.text)
    .join('\n');
  const latestDate = latestEntryDate(record);
  return {
    record,
    age: ageOnDate(record, latestDate),
    latestDate,
    activeConditions,
    conditionKinds,
    medications,
    drugClasses,
    labSeries: groupLabs(record.labs),
    notesText,
  };
}

// Condition and lab names recur across records and each rule is a regular expression, so the
// kinds of a code or a name are worked out once per distinct string.

const conditionKindsByCode = memoise((code: string) => CONDITION_RULES.filter((rule) => rule.codes.test(code)).map((rule) => rule.kind), 1024);
const conditionKindsByName = memoise((name: string) => CONDITION_RULES.filter((rule) => rule.name.test(name)).map((rule) => rule.kind), 1024);

/** Position in LAB_RULES of the first rule listing each code. */
const LAB_RULE_BY_CODE = new Map<string, number>();
for (const [index, rule] of LAB_RULES.entries()) for (const code of rule.codes) if (!LAB_RULE_BY_CODE.has(code)) LAB_RULE_BY_CODE.set(code, index);

/** Position in LAB_RULES of the first rule whose name pattern matches (Infinity: none). */
const labRuleByName = memoise((name: string) => {
  const index = LAB_RULES.findIndex((rule) => rule.name.test(name));
  return index === -1 ? Infinity : index;
}, 1024);

/** The kind of the first rule that recognises the lab, by its code or by its name. */
function labKind(lab: LabResult): LabKind | undefined {
  const byCode = lab.code === undefined ? Infinity : (LAB_RULE_BY_CODE.get(lab.code) ?? Infinity);
  const index = Math.min(byCode, labRuleByName(lab.name));
  return index === Infinity ? undefined : LAB_RULES[index]!.kind;
}

function groupLabs(labs: readonly LabResult[]): LabSeries[] {
  // Keyed by kind, or by code and name for labs no rule recognises (those keys hold a "|", kinds do
  // not), so every lab of a group has the group's kind.
  const groups = new Map<string, { kind: LabKind | undefined; labs: LabResult[] }>();
  for (const lab of labs) {
    const kind = labKind(lab);
    const key = kind ?? `${lab.code ?? ''}|${lab.name.trim().toLowerCase()}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { kind, labs: [lab] });
    else group.labs.push(lab);
  }
  return [...groups.values()].map(({ kind, labs: results }) => {
    // Array sorts are stable: results of the same day keep the record's order, the last one counting as latest.
    results.sort((left, right) => left.date.localeCompare(right.date));
    return { kind, results, latest: results.at(-1)! };
  });
}

/** The series of a kind of measurement, if the record has one. */
export function labSeriesOf(facts: PatientFacts, kind: LabKind): LabSeries | undefined {
  return facts.labSeries.find((series) => series.kind === kind);
}

export function hasDrugClass(facts: PatientFacts, ...classes: readonly DrugClass[]): boolean {
  return classes.some((drugClass) => facts.drugClasses.has(drugClass));
}

/** The record's medications of any of these classes, in record order. */
export function medicationsOfClass(facts: PatientFacts, ...classes: readonly DrugClass[]): ClassifiedMedication[] {
  return facts.medications.filter((medication) => classes.some((drugClass) => medication.classes.has(drugClass)));
}

/**
 * "eGFR 52 (2025-03-12) → 45 (2025-09-15) → 38 mL/min/1.73m2 (2026-03-16); reference ≥ 60":
 * the last three results of a series and the reference range.
 */
export function describeLabSeries(series: LabSeries): string {
  const recent = series.results.slice(-3);
  const values = recent.map((lab, index) => (index === recent.length - 1 && lab.unit !== '' ? `${lab.value} ${lab.unit} (${lab.date})` : `${lab.value} (${lab.date})`));
  return `${series.latest.name} ${values.join(' → ')}; ${describeRange(series.latest)}`;
}

function describeRange(lab: LabResult): string {
  const { low, high } = lab.referenceRange;
  if (low !== undefined && high !== undefined) return `reference ${low}–${high}`;
  if (low !== undefined) return `reference ≥ ${low}`;
  if (high !== undefined) return `reference ≤ ${high}`;
  return 'no reference range';
}

/** Whether the latest result of a series is outside its reference range. */
export function latestOutOfRange(series: LabSeries | undefined): boolean {
  return series !== undefined && isOutOfRange(series.latest);
}

/** "man", "woman" or "person", for the summary. */
export function describeSex(sex: PatientRecord['sex']): string {
  return sex === 'male' ? 'man' : sex === 'female' ? 'woman' : 'person';
}
