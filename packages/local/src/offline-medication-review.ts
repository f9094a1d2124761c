import type { MedicationReviewItem } from '@aidoc/core';
import { dailyDoseMg, type ClassifiedMedication } from './offline-formulary.ts';
import type { ClinicalFinding } from './offline-clinical-findings.ts';
import { hasDrugClass, labSeriesOf, type PatientFacts } from './offline-patient-facts.ts';

/** A medication review item before citations are attached, with the terms that find its sources. */
export interface DraftMedicationReview {
  readonly item: Omit<MedicationReviewItem, 'citations'>;
  readonly terms: readonly string[];
}

type Action = MedicationReviewItem['action'];

/**
 * One review item per medication on the record, from rules over its class, the latest labs and
 * the findings (which already name dose problems and interactions). Deterministic.
 */
export function reviewMedications(facts: PatientFacts, findings: readonly ClinicalFinding[]): DraftMedicationReview[] {
  const keys = new Set(findings.map((item) => item.key));
  return facts.medications.map((medication) => {
    const [action, assessment] = assess(medication, facts, keys);
    return {
      item: { medication: `${medication.medication.name} ${medication.medication.dose} ${medication.medication.frequency}`, assessment, action },
      terms: medication.terms,
    };
  });
}

function assess(medication: ClassifiedMedication, facts: PatientFacts, findingKeys: ReadonlySet<string>): [Action, string] {
  const classes = medication.classes;
  const egfr = labSeriesOf(facts, 'egfr')?.latest.value;
  const potassium = labSeriesOf(facts, 'potassium')?.latest.value;
  const sodium = labSeriesOf(facts, 'sodium')?.latest.value;
  const inr = labSeriesOf(facts, 'inr')?.latest.value;
  const course = /for \d+ days?/i.test(medication.medication.frequency);

  if (classes.has('metformin')) {
    if (egfr === undefined) return ['review', 'No eGFR in the record: check kidney function before continuing metformin.'];
    if (egfr < 30) return ['stop', `eGFR ${egfr} is below 30: stop metformin.`];
    const daily = dailyDoseMg(medication);
    if (egfr < 45) {
      return daily !== undefined && daily > 1000
        ? ['adjust', `eGFR ${egfr} (30–44): reduce from ${daily} mg to at most 1000 mg per day.`]
        : ['monitor', `eGFR ${egfr} (30–44): keep at or below 1000 mg per day and recheck eGFR every 3 to 6 months.`];
    }
    if (egfr < 60) return ['monitor', `eGFR ${egfr}: usual dose allowed; check eGFR every 3 to 6 months.`];
    return ['continue', `eGFR ${egfr}: usual dose; check eGFR at least once a year.`];
  }
  if (classes.has('nsaid')) {
    return findingKeys.has('nsaid')
      ? ['stop', 'Avoid NSAIDs with this kidney function, renin-angiotensin blockade, anticoagulation or heart failure; use paracetamol or a topical NSAID.']
      : ['review', 'Use the lowest dose for the shortest time; check kidney function if continued.'];
  }
  if (classes.has('ace-inhibitor') || classes.has('angiotensin-receptor-blocker') || classes.has('angiotensin-receptor-neprilysin-inhibitor')) {
    if (findingKeys.has('ace-with-arb')) return ['stop', 'Do not combine an ACE inhibitor with an ARB: stop one of them.'];
    if (potassium !== undefined && potassium >= 6) return ['stop', `Potassium ${potassium} mmol/L: withhold while the hyperkalaemia is managed, then reintroduce at a lower dose.`];
    if (potassium !== undefined && potassium >= 5.5) {
      return ['review', `Potassium ${potassium} mmol/L: keep if possible; first stop other potassium-raising drugs and recheck within 72 hours.`];
    }
    if (findingKeys.has('kidney-decline')) return ['review', 'Falling eGFR: look for volume depletion and NSAIDs; check potassium and creatinine.'];
    return ['continue', 'Check potassium and creatinine after dose changes and at least yearly.'];
  }
  if (classes.has('mineralocorticoid-receptor-antagonist')) {
    if (potassium !== undefined && potassium >= 6) return ['stop', `Potassium ${potassium} mmol/L: stop and seek advice.`];
    if (potassium !== undefined && potassium >= 5.5) return ['adjust', `Potassium ${potassium} mmol/L: halve the dose and recheck potassium within 72 hours.`];
    if (egfr !== undefined && egfr < 30) return ['review', `eGFR ${egfr} is below 30: specialist advice needed to continue.`];
    return ['monitor', 'Check potassium and creatinine regularly (monthly for 3 months after changes, then every 4 months).'];
  }
  if (classes.has('trimethoprim') || classes.has('potassium-supplement') || classes.has('potassium-sparing-diuretic')) {
    const raisingPotassium = potassium !== undefined && potassium > 5;
    if (course) return ['review', `A short course; it raises potassium${raisingPotassium ? ` (now ${potassium} mmol/L)` : ''}: avoid further courses alongside renin-angiotensin blockers or spironolactone.`];
    return raisingPotassium ? ['stop', `Raises potassium (now ${potassium} mmol/L).`] : ['monitor', 'Raises potassium: monitor it.'];
  }
  if (classes.has('warfarin')) {
    if (inr === undefined) return ['review', 'No INR in the record.'];
    if (inr > 3) return ['adjust', `INR ${inr} above the 2.0–3.0 range: omit or reduce doses as the INR band directs, and find the cause.`];
    if (inr < 2) return ['adjust', `INR ${inr} below the 2.0–3.0 range: check adherence and interactions, adjust the dose.`];
    return ['continue', `INR ${inr} within range; review the time in therapeutic range.`];
  }
  if (classes.has('direct-oral-anticoagulant')) {
    if (findingKeys.has('doac-dose')) return ['adjust', 'The dose does not match the dose criteria for age, weight and kidney function.'];
    if (egfr !== undefined && egfr < 60) return ['monitor', 'Dose checked against kidney function; recheck kidney function every 6 months.'];
    return ['continue', 'Check kidney function, haemoglobin and the dose criteria at least yearly.'];
  }
  if (classes.has('warfarin-interacting-drug') || classes.has('cyp3a4-strong-inhibitor')) {
    const interacts = hasDrugClass(facts, 'warfarin') || findingKeys.has('simvastatin-strong-inhibitor');
    if (interacts) return ['review', `${course ? 'Course' : 'Treatment'} interacts with ${hasDrugClass(facts, 'warfarin') ? 'warfarin (raises the INR)' : 'simvastatin'}; monitor and avoid repeat courses where possible.`];
  }
  if (classes.has('statin')) {
    if (findingKeys.has('simvastatin-strong-inhibitor')) return ['adjust', 'Pause simvastatin during courses of interacting antibiotics.'];
    if (findingKeys.has('simvastatin-dose-limit')) return ['adjust', 'Reduce simvastatin to 20 mg daily, or switch to atorvastatin, because of the interacting calcium channel blocker.'];
    if (findingKeys.has('ldl-above-target')) return ['adjust', 'LDL cholesterol above target: raise the intensity or add ezetimibe.'];
    return ['continue', 'Recheck lipids yearly.'];
  }
  if (classes.has('thiazide-diuretic')) {
    if (sodium !== undefined && sodium < 130) return ['stop', `Sodium ${sodium} mmol/L is below 130: stop and recheck sodium within a week.`];
    if (sodium !== undefined && sodium < 135) return ['monitor', `Sodium ${sodium} mmol/L: recheck sodium and potassium.`];
    return ['continue', 'Check sodium and potassium yearly.'];
  }
  if (classes.has('loop-diuretic')) {
    return ['monitor', `Use the lowest dose that keeps the person free of congestion; check sodium, potassium and creatinine after changes${sodium !== undefined && sodium < 135 ? ` (sodium now ${sodium} mmol/L)` : ''}.`];
  }
  if (classes.has('sglt2-inhibitor')) {
    if (egfr !== undefined && egfr < 20) return ['review', `eGFR ${egfr}: do not start below 20; specialist advice to continue.`];
    return ['continue', 'Heart and kidney protection; pause during dehydrating illness and before major surgery.'];
  }
  if (classes.has('sulfonylurea') || classes.has('insulin')) {
    return egfr !== undefined && egfr < 45 ? ['review', `eGFR ${egfr}: risk of hypoglycaemia rises; review the dose.`] : ['continue', 'Ask about hypoglycaemia at each review.'];
  }
  if (classes.has('antiplatelet') && findingKeys.has('anticoagulant-antiplatelet')) {
    return ['review', 'Combined with an anticoagulant: confirm a specialist indication and its duration.'];
  }
  if (classes.has('short-acting-beta-agonist') && findingKeys.has('frequent-reliever')) {
    return ['review', 'Used several times a day: review maintenance therapy rather than adding reliever.'];
  }
  if (classes.has('long-acting-muscarinic-antagonist') && findingKeys.has('copd-exacerbations') && !hasDrugClass(facts, 'long-acting-beta-agonist')) {
    return ['adjust', 'Exacerbations on a LAMA alone: step up to a LAMA+LABA combination.'];
  }
  if (classes.has('rate-limiting-calcium-channel-blocker') && facts.conditionKinds.has('heart-failure')) {
    return ['stop', 'Depresses cardiac function in heart failure with reduced ejection fraction.'];
  }
  return ['continue', 'No concern found by the offline rules; confirm the ongoing indication.'];
}
