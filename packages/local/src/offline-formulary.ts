import type { Medication } from '@aidoc/core';
import { memoise } from './offline-memo.ts';

/** The drug classes the offline model's rules reason about. */
export type DrugClass =
  | 'metformin'
  | 'ace-inhibitor'
  | 'angiotensin-receptor-blocker'
  | 'angiotensin-receptor-neprilysin-inhibitor'
  | 'mineralocorticoid-receptor-antagonist'
  | 'potassium-sparing-diuretic'
  | 'loop-diuretic'
  | 'thiazide-diuretic'
  | 'sglt2-inhibitor'
  | 'sulfonylurea'
  | 'insulin'
  | 'dpp4-inhibitor'
  | 'glp1-receptor-agonist'
  | 'statin'
  | 'ezetimibe'
  | 'warfarin'
  | 'direct-oral-anticoagulant'
  | 'antiplatelet'
  | 'nsaid'
  | 'beta-blocker'
  | 'calcium-channel-blocker'
  | 'rate-limiting-calcium-channel-blocker'
  | 'short-acting-beta-agonist'
  | 'long-acting-beta-agonist'
  | 'long-acting-muscarinic-antagonist'
  | 'inhaled-corticosteroid'
  | 'oral-corticosteroid'
  | 'potassium-supplement'
  | 'trimethoprim'
  | 'warfarin-interacting-drug'
  | 'cyp3a4-strong-inhibitor'
  | 'penicillin'
  | 'digoxin';

interface FormularyEntry {
  readonly pattern: RegExp;
  readonly classes: readonly DrugClass[];
  /** Words a guideline uses for the drug's class, to find passages that discuss it. */
  readonly terms: readonly string[];
}

const FORMULARY: readonly FormularyEntry[] = [
  { pattern: /metformin/i, classes: ['metformin'], terms: ['metformin'] },
  { pattern: /\w+pril\b/i, classes: ['ace-inhibitor'], terms: ['ACE inhibitor'] },
  { pattern: /sacubitril/i, classes: ['angiotensin-receptor-neprilysin-inhibitor'], terms: ['sacubitril', 'ARNI'] },
  { pattern: /\w+sartan\b/i, classes: ['angiotensin-receptor-blocker'], terms: ['ARB', 'angiotensin receptor blocker'] },
  { pattern: /spironolactone|eplerenone|finerenone/i, classes: ['mineralocorticoid-receptor-antagonist'], terms: ['spironolactone', 'MRA', 'mineralocorticoid receptor antagonist'] },
  { pattern: /amiloride|triamterene/i, classes: ['potassium-sparing-diuretic'], terms: ['potassium-sparing'] },
  { pattern: /furosemide|frusemide|bumetanide|torasemide/i, classes: ['loop-diuretic'], terms: ['loop diuretic', 'diuretic'] },
  {
    pattern: /indapamide|chlortalidone|chlorthalidone|hydrochlorothiazide|bendroflumethiazide/i,
    classes: ['thiazide-diuretic'],
    terms: ['thiazide-like diuretic', 'diuretic'],
  },
  { pattern: /\w+gliflozin\b/i, classes: ['sglt2-inhibitor'], terms: ['SGLT2 inhibitor'] },
  { pattern: /gliclazide|glipizide|glimepiride|glibenclamide/i, classes: ['sulfonylurea'], terms: ['sulfonylurea'] },
  { pattern: /insulin/i, classes: ['insulin'], terms: ['insulin'] },
  { pattern: /\w+gliptin\b/i, classes: ['dpp4-inhibitor'], terms: ['DPP-4 inhibitor'] },
  { pattern: /semaglutide|liraglutide|dulaglutide|exenatide|tirzepatide/i, classes: ['glp1-receptor-agonist'], terms: ['GLP-1 receptor agonist'] },
  { pattern: /\w+vastatin\b/i, classes: ['statin'], terms: ['statin'] },
  { pattern: /ezetimibe/i, classes: ['ezetimibe'], terms: ['ezetimibe'] },
  { pattern: /warfarin/i, classes: ['warfarin'], terms: ['warfarin', 'INR'] },
  { pattern: /apixaban|rivaroxaban|edoxaban|dabigatran/i, classes: ['direct-oral-anticoagulant'], terms: ['DOAC', 'anticoagulant'] },
  { pattern: /aspirin|clopidogrel|prasugrel|ticagrelor/i, classes: ['antiplatelet'], terms: ['antiplatelet', 'aspirin'] },
  {
    pattern: /ibuprofen|naproxen|diclofenac|celecoxib|etoricoxib|meloxicam|indometacin|indomethacin/i,
    classes: ['nsaid'],
    terms: ['NSAID'],
  },
  { pattern: /\w+olol\b|carvedilol/i, classes: ['beta-blocker'], terms: ['beta-blocker'] },
  { pattern: /amlodipine|felodipine|nifedipine|lercanidipine/i, classes: ['calcium-channel-blocker'], terms: ['calcium channel blocker'] },
  { pattern: /verapamil|diltiazem/i, classes: ['rate-limiting-calcium-channel-blocker', 'cyp3a4-strong-inhibitor'], terms: ['verapamil', 'diltiazem'] },
  { pattern: /salbutamol|albuterol|terbutaline/i, classes: ['short-acting-beta-agonist'], terms: ['SABA', 'reliever'] },
  {
    pattern: /formoterol|salmeterol|vilanterol|olodaterol|indacaterol/i,
    classes: ['long-acting-beta-agonist'],
    terms: ['LABA', 'long-acting beta-agonist'],
  },
  {
    pattern: /tiotropium|umeclidinium|glycopyrronium|aclidinium/i,
    classes: ['long-acting-muscarinic-antagonist'],
    terms: ['LAMA', 'long-acting muscarinic antagonist'],
  },
  {
    pattern: /budesonide|beclometasone|beclomethasone|fluticasone|mometasone|ciclesonide/i,
    classes: ['inhaled-corticosteroid'],
    terms: ['ICS', 'inhaled corticosteroid'],
  },
  { pattern: /prednisolone|prednisone|dexamethasone/i, classes: ['oral-corticosteroid'], terms: ['prednisolone', 'oral corticosteroid'] },
  { pattern: /potassium chloride|sando-?k|potassium supplement/i, classes: ['potassium-supplement'], terms: ['potassium supplement'] },
  { pattern: /co-trimoxazole|trimethoprim/i, classes: ['trimethoprim', 'warfarin-interacting-drug'], terms: ['trimethoprim'] },
  { pattern: /clarithromycin|erythromycin/i, classes: ['warfarin-interacting-drug', 'cyp3a4-strong-inhibitor'], terms: [] },
  { pattern: /ciprofloxacin|metronidazole|fluconazole|miconazole/i, classes: ['warfarin-interacting-drug'], terms: [] },
  { pattern: /amiodarone/i, classes: ['warfarin-interacting-drug', 'cyp3a4-strong-inhibitor'], terms: ['amiodarone'] },
  { pattern: /itraconazole|ketoconazole|ritonavir/i, classes: ['cyp3a4-strong-inhibitor'], terms: [] },
  {
    pattern: /amoxicillin|co-amoxiclav|flucloxacillin|phenoxymethylpenicillin|benzylpenicillin|penicillin|piperacillin/i,
    classes: ['penicillin'],
    terms: ['penicillin'],
  },
  { pattern: /digoxin/i, classes: ['digoxin'], terms: ['digoxin'] },
];

/** A medication from the record with what the formulary knows about it. */
export interface ClassifiedMedication {
  readonly medication: Medication;
  readonly classes: ReadonlySet<DrugClass>;
  /** The drug's own name (lower case) and its class terms, for finding passages about it. */
  readonly terms: readonly string[];
  /** The amount of one dose in mg, when the dose states it in mg, g or micrograms. */
  readonly doseMg: number | undefined;
  /** Doses per day, when the frequency says (once, twice, three or four times daily). */
  readonly dosesPerDay: number | undefined;
}

/** Looks a medication up in the offline formulary (unknown drugs get no classes). */
export function classifyMedication(medication: Medication): ClassifiedMedication {
  const { classes, terms } = lookUpDrug(medication.name);
  return { medication, classes, terms, doseMg: doseInMilligrams(medication.dose), dosesPerDay: dosesPerDay(medication.frequency) };
}

/**
 * The classes and terms of a drug name, from every formulary entry whose pattern matches it.
 * Names recur across records and matching tries every entry, so each name is looked up once.
 */
const lookUpDrug = memoise((name: string): Pick<ClassifiedMedication, 'classes' | 'terms'> => {
  const classes = new Set<DrugClass>();
  const terms = [name.toLowerCase()];
  for (const entry of FORMULARY) {
    if (!entry.pattern.test(name)) continue;
    for (const drugClass of entry.classes) classes.add(drugClass);
    terms.push(...entry.terms);
  }
  return { classes, terms: [...new Set(terms)] };
}, 1024);

function doseInMilligrams(dose: string): number | undefined {
  const match = /(\d+(?:\.\d+)?)\s*(mg|g|micrograms?|mcg)\b/i.exec(dose);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  if (unit === 'g') return amount * 1000;
  if (unit === 'mg') return amount;
  return amount / 1000;
}

function dosesPerDay(frequency: string): number | undefined {
  if (/\bfour times\b|\bqds\b/i.test(frequency)) return 4;
  if (/\bthree times\b|\btds\b/i.test(frequency)) return 3;
  if (/\btwice\b|\bbd\b/i.test(frequency)) return 2;
  if (/\bonce (daily|a day)\b|\bdaily\b|\bat night\b|\bin the morning\b/i.test(frequency)) return 1;
  return undefined;
}

/** Total daily dose in mg, when both the dose and the frequency are known. */
export function dailyDoseMg(medication: ClassifiedMedication): number | undefined {
  return medication.doseMg === undefined || medication.dosesPerDay === undefined ? undefined : medication.doseMg * medication.dosesPerDay;
}

/** "Metformin 1000 mg twice daily": how the record states a medication. */
export function describeMedication(medication: Medication): string {
  return `${medication.name} ${medication.dose} ${medication.frequency}`;
}
