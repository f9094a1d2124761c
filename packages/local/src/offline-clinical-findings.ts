import { isOutOfRange, type FollowUp, type KeyConcern } from '@aidoc/core';
import { dailyDoseMg, describeMedication, type ClassifiedMedication } from './offline-formulary.ts';
import {
  describeLabSeries,
  hasDrugClass,
  labSeriesOf,
  medicationsOfClass,
  type LabKind,
  type LabSeries,
  type PatientFacts,
} from './offline-patient-facts.ts';

/**
 * Something the offline rules noticed in a record. A finding may raise a key concern, ask for a
 * guideline search (whose passages back a recommendation), and suggest follow-ups.
 */
export interface ClinicalFinding {
  /** Stable and unique within one record. */
  readonly key: string;
  /** Lower comes first: high-severity concerns, then medium, low, then background topics. */
  readonly priority: number;
  /** What to do about it, opening the recommendation ("Review metformin against the falling eGFR"). */
  readonly topic?: string;
  /** The guideline search this finding asks for. */
  readonly query?: string;
  /** Lower-case phrases a good supporting sentence contains. */
  readonly keywords: readonly string[];
  /** Why it matters for this patient (the recommendation's rationale). */
  readonly reason?: string;
  readonly concern?: KeyConcern;
  readonly followUps: readonly FollowUp[];
  /** Lab kinds this finding accounts for, so no generic "out of range" concern repeats them. */
  readonly coversLabs: readonly LabKind[];
}

type Severity = KeyConcern['severity'];

const SEVERITY_PRIORITY: Record<Severity | 'background', number> = { high: 0, medium: 10, low: 20, background: 30 };

interface FindingInput {
  readonly key: string;
  readonly severity?: Severity;
  readonly concern?: string;
  readonly evidence?: string;
  readonly topic?: string;
  readonly query?: string;
  readonly keywords?: readonly string[];
  readonly reason?: string;
  readonly followUps?: readonly FollowUp[];
  readonly coversLabs?: readonly LabKind[];
}

function finding(input: FindingInput): ClinicalFinding {
  const concern =
    input.concern !== undefined && input.severity !== undefined
      ? { concern: input.concern, evidence: input.evidence ?? input.reason ?? input.concern, severity: input.severity }
      : undefined;
  return {
    key: input.key,
    priority: SEVERITY_PRIORITY[concern?.severity ?? 'background'],
    keywords: input.keywords ?? [],
    followUps: input.followUps ?? [],
    coversLabs: input.coversLabs ?? [],
    ...(input.topic === undefined ? {} : { topic: input.topic }),
    ...(input.query === undefined ? {} : { query: input.query }),
    ...(input.reason === undefined ? (input.evidence === undefined ? {} : { reason: input.evidence }) : { reason: input.reason }),
    ...(concern === undefined ? {} : { concern }),
  };
}

type Rule = (facts: PatientFacts) => ClinicalFinding[];

/**
 * Applies every rule to the record and returns the findings, most pressing first (stable: rules
 * keep their order within one priority). Pure and deterministic.
 */
export function findClinicalFindings(facts: PatientFacts): ClinicalFinding[] {
  const findings = RULES.flatMap((rule) => rule(facts));
  findings.push(...outOfRangeLabFindings(facts, new Set(findings.flatMap((item) => item.coversLabs))));
  // Array sorts are stable: findings of one priority keep the rules' order.
  return findings.sort((left, right) => left.priority - right.priority);
}

// ---------------------------------------------------------------------------------------------
// Kidney function

const egfrCategory = (value: number): string =>
  value >= 90 ? 'G1' : value >= 60 ? 'G2' : value >= 45 ? 'G3a' : value >= 30 ? 'G3b' : value >= 15 ? 'G4' : 'G5';

const DAY_MS = 86_400_000;
const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);

function metforminAndKidneys(facts: PatientFacts): ClinicalFinding[] {
  const metformin = medicationsOfClass(facts, 'metformin')[0];
  const egfr = labSeriesOf(facts, 'egfr');
  if (metformin === undefined || egfr === undefined) return [];
  const value = egfr.latest.value;
  const daily = dailyDoseMg(metformin);
  const taking = `${describeMedication(metformin.medication)}${daily === undefined ? '' : ` (${daily} mg per day)`}`;
  const reason = `${describeLabSeries(egfr)}, while taking ${taking}.`;
  const recheck = { action: 'Recheck eGFR and creatinine after the metformin change', timeframe: 'within 2 weeks' };
  if (value < 30) {
    return [
      finding({
        key: 'metformin-egfr',
        severity: 'high',
        concern: `Metformin continued with eGFR ${value}, below the stopping threshold of 30`,
        evidence: reason,
        topic: 'Stop metformin because of the eGFR',
        query: 'stop metformin when eGFR is below 30',
        keywords: ['metformin', 'below 30', 'stop'],
        followUps: [recheck],
        coversLabs: ['egfr'],
      }),
    ];
  }
  if (value < 45) {
    const tooHigh = daily !== undefined && daily > 1000;
    return [
      finding({
        key: 'metformin-egfr',
        severity: tooHigh ? 'high' : 'medium',
        concern: tooHigh
          ? `Metformin ${daily} mg per day exceeds the 1000 mg per day maximum for eGFR 30–44`
          : `Metformin with eGFR ${value} (30–44): dose limit applies`,
        evidence: reason,
        topic: 'Reduce metformin for the reduced eGFR',
        query: 'metformin dosing with reduced eGFR between 30 and 44',
        keywords: ['metformin', 'egfr', '30 and 44', '1000 mg', 'reduce'],
        followUps: [recheck],
        coversLabs: ['egfr'],
      }),
    ];
  }
  if (value < 60) {
    return [
      finding({
        key: 'metformin-egfr',
        topic: 'Monitor kidney function on metformin',
        query: 'metformin and kidney function eGFR monitoring',
        keywords: ['metformin', 'egfr', '3 to 6 months', '45 or above'],
        reason,
        followUps: [{ action: 'Check eGFR while on metformin', timeframe: 'every 3 to 6 months' }],
      }),
    ];
  }
  return [];
}

function kidneyFunction(facts: PatientFacts): ClinicalFinding[] {
  const egfr = labSeriesOf(facts, 'egfr');
  const covers: LabKind[] = ['egfr', 'creatinine'];
  if (egfr === undefined) return [];
  const latest = egfr.latest;
  const first = egfr.results.find((lab) => daysBetween(lab.date, latest.date) <= 400) ?? latest;
  const drop = first.value - latest.value;
  const accelerated =
    first !== latest && ((drop / first.value >= 0.25 && egfrCategory(first.value) !== egfrCategory(latest.value)) || (drop >= 15 && daysBetween(first.date, latest.date) <= 366));
  const category = egfrCategory(latest.value);
  if (accelerated) {
    return [
      finding({
        key: 'kidney-decline',
        severity: 'high',
        concern: `Accelerated decline in kidney function (eGFR ${first.value} → ${latest.value}, now ${category})`,
        evidence: `${describeLabSeries(egfr)}: a fall of ${Math.round((drop / first.value) * 100)}% in ${daysBetween(first.date, latest.date)} days.`,
        topic: 'Investigate the accelerated fall in eGFR and review every medicine',
        query: 'accelerated decline in eGFR in chronic kidney disease: review medicines and refer',
        keywords: ['25%', 'accelerated', 'review the medicines', 'referral', 'reversible causes', 'egfr'],
        followUps: [
          { action: 'Repeat eGFR, creatinine and urine albumin to creatinine ratio', timeframe: 'within 2 weeks' },
          ...(latest.value < 30 ? [{ action: 'Refer to a kidney specialist', timeframe: 'routine referral now' }] : []),
        ],
        coversLabs: covers,
      }),
    ];
  }
  if (latest.value < 60 && isOutOfRange(latest)) {
    const monitoring = latest.value >= 45 ? 'at least once a year' : latest.value >= 30 ? 'at least twice a year' : 'at least three times a year';
    return [
      finding({
        key: 'kidney-reduced',
        severity: latest.value < 30 ? 'high' : 'medium',
        concern: `Reduced kidney function (eGFR ${latest.value}, category ${category}): doses of renally cleared drugs need checking`,
        evidence: `${describeLabSeries(egfr)}.`,
        topic: 'Check each medicine against the current eGFR',
        query: 'drug dosing in chronic kidney disease: review every medicine when eGFR crosses a threshold',
        keywords: ['review every medicine', 'crosses a threshold', 'egfr', 'cleared by the kidneys', 'creatinine clearance'],
        followUps: [{ action: 'Monitor eGFR and urine albumin to creatinine ratio', timeframe: monitoring }],
        coversLabs: covers,
      }),
    ];
  }
  return [];
}

function nsaids(facts: PatientFacts): ClinicalFinding[] {
  const nsaid = medicationsOfClass(facts, 'nsaid')[0];
  if (nsaid === undefined) return [];
  const egfr = labSeriesOf(facts, 'egfr');
  const kidney = facts.conditionKinds.has('chronic-kidney-disease') || (egfr !== undefined && egfr.latest.value < 60);
  const raas = medicationsOfClass(facts, 'ace-inhibitor', 'angiotensin-receptor-blocker', 'angiotensin-receptor-neprilysin-inhibitor');
  const diuretics = medicationsOfClass(facts, 'loop-diuretic', 'thiazide-diuretic', 'mineralocorticoid-receptor-antagonist');
  const anticoagulants = medicationsOfClass(facts, 'warfarin', 'direct-oral-anticoagulant');
  const contexts = [
    ...(kidney ? ['chronic kidney disease'] : []),
    ...(raas.length > 0 && diuretics.length > 0 ? ['an ACE inhibitor or ARB plus a diuretic (the "triple whammy")'] : raas.length > 0 ? ['an ACE inhibitor or ARB'] : []),
    ...(facts.conditionKinds.has('heart-failure') ? ['heart failure'] : []),
    ...(anticoagulants.length > 0 ? ['an anticoagulant (bleeding risk)'] : []),
  ];
  if (contexts.length === 0) return [];
  const severity: Severity = kidney || diuretics.length > 0 || anticoagulants.length > 0 || facts.conditionKinds.has('heart-failure') ? 'high' : 'medium';
  const drugName = nsaid.medication.name.toLowerCase();
  const others = [...raas, ...diuretics, ...anticoagulants].map((medication) => medication.medication.name);
  return [
    finding({
      key: 'nsaid',
      severity,
      concern: `${nsaid.medication.name} (an NSAID) taken with ${contexts.join(' and ')}`,
      evidence:
        `${describeMedication(nsaid.medication)}` +
        (others.length > 0 ? ` with ${others.join(', ')}` : '') +
        (egfr === undefined ? '' : `; ${describeLabSeries(egfr)}`) +
        '.',
      topic: `Stop ${drugName} and use paracetamol or a topical NSAID instead`,
      query: anticoagulants.length > 0 && !kidney ? `NSAID such as ${drugName} with an anticoagulant: bleeding risk` : `avoid NSAIDs such as ${drugName} in chronic kidney disease`,
      keywords: ['nsaid', drugName, 'avoid', 'paracetamol', 'kidney', 'topical'],
      followUps: [{ action: `Stop ${drugName}; recheck eGFR and potassium`, timeframe: 'within 1 week' }],
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Electrolytes

const SALT_SUBSTITUTE = /salt substitute|potassium chloride|lo-?salt/i;

function potassium(facts: PatientFacts): ClinicalFinding[] {
  const series = labSeriesOf(facts, 'potassium');
  if (series === undefined) return [];
  const value = series.latest.value;
  const raas = medicationsOfClass(facts, 'ace-inhibitor', 'angiotensin-receptor-blocker', 'angiotensin-receptor-neprilysin-inhibitor');
  const mra = medicationsOfClass(facts, 'mineralocorticoid-receptor-antagonist');
  const raisers = medicationsOfClass(facts, 'trimethoprim', 'potassium-supplement', 'potassium-sparing-diuretic', 'nsaid');
  const onDrugs = [...raas, ...mra].map((medication) => medication.medication.name.toLowerCase());
  if (value >= 5.5) {
    const level = value >= 6.5 ? 'severe' : value >= 6 ? 'moderate' : 'mild';
    const severity: Severity = value >= 6 || (raas.length > 0 && mra.length > 0) ? 'high' : 'medium';
    const drugText = onDrugs.length > 0 ? ` on ${onDrugs.join(' and ')}` : '';
    const contributors = [
      ...raisers.map((medication) => `${describeMedication(medication.medication)}${courseNote(medication, facts.latestDate)}`),
      ...(SALT_SUBSTITUTE.test(facts.notesText) ? ['a potassium-containing salt substitute (clinical notes)'] : []),
    ];
    const query =
      raas.length > 0 && mra.length > 0
        ? `hyperkalaemia on ${raas.some((medication) => medication.classes.has('ace-inhibitor')) ? 'ACE inhibitor' : 'ARB'} and spironolactone`
        : raas.length > 0
          ? 'hyperkalaemia on ACE inhibitor or ARB'
          : mra.length > 0
            ? 'hyperkalaemia on spironolactone'
            : 'hyperkalaemia management by potassium level';
    const keywords =
      level === 'mild'
        ? ['5.5–5.9', 'halve', 'spironolactone', 'recheck', '72 hours', 'salt substitute']
        : level === 'moderate'
          ? ['6.0–6.4', 'stop spironolactone', '24 hours', 'reduce or withhold']
          : ['6.5', 'same-day', 'emergency', 'ecg'];
    const timeframe = level === 'mild' ? 'within 72 hours' : level === 'moderate' ? 'within 24 hours' : 'today (same-day emergency assessment with an ECG)';
    return [
      finding({
        key: 'hyperkalaemia',
        severity,
        concern: `Hyperkalaemia (${level}, potassium ${value} mmol/L)${drugText}`,
        evidence: `${describeLabSeries(series)}` + (contributors.length > 0 ? `; other contributors: ${contributors.join('; ')}` : '') + '.',
        topic: `Manage the hyperkalaemia${drugText}`,
        query,
        keywords,
        followUps: [
          { action: 'Repeat potassium and creatinine', timeframe },
          ...(contributors.length > 0 ? [{ action: 'Stop other potassium-raising drugs and salt substitutes', timeframe: 'now' }] : []),
        ],
        coversLabs: ['potassium'],
      }),
    ];
  }
  if (value < 3.5 && isOutOfRange(series.latest)) {
    const diuretics = medicationsOfClass(facts, 'loop-diuretic', 'thiazide-diuretic');
    return [
      finding({
        key: 'hypokalaemia',
        severity: value < 3 ? 'high' : 'medium',
        concern: `Low potassium (${value} mmol/L)${diuretics.length > 0 ? ` on ${diuretics.map((medication) => medication.medication.name.toLowerCase()).join(' and ')}` : ''}`,
        evidence: `${describeLabSeries(series)}.`,
        topic: 'Correct the low potassium',
        query: 'low potassium on a loop or thiazide-like diuretic',
        keywords: ['hypokalaemia', 'below 3.5', 'diuretic', 'recheck', 'potassium'],
        followUps: [{ action: 'Recheck potassium', timeframe: 'within 1 week' }],
        coversLabs: ['potassium'],
      }),
    ];
  }
  if (isOutOfRange(series.latest) && (raas.length > 0 || mra.length > 0)) {
    return [
      finding({
        key: 'potassium-high-normal',
        severity: 'low',
        concern: `Potassium ${value} mmol/L above the reference range on ${onDrugs.join(' and ')}`,
        evidence: `${describeLabSeries(series)}.`,
        followUps: [{ action: 'Recheck potassium before adding any potassium-raising drug', timeframe: 'at the next blood test' }],
        coversLabs: ['potassium'],
      }),
    ];
  }
  return [];
}

function sodium(facts: PatientFacts): ClinicalFinding[] {
  const series = labSeriesOf(facts, 'sodium');
  if (series === undefined || !isOutOfRange(series.latest) || series.latest.value >= 135) return [];
  const value = series.latest.value;
  const thiazide = medicationsOfClass(facts, 'thiazide-diuretic')[0];
  const loop = medicationsOfClass(facts, 'loop-diuretic')[0];
  const severity: Severity = value < 130 ? 'high' : value < 133 ? 'medium' : 'low';
  const common = { key: 'hyponatraemia', severity, evidence: `${describeLabSeries(series)}.`, coversLabs: ['sodium'] as LabKind[] };
  const followUps = [{ action: 'Recheck sodium', timeframe: 'within 1 week' }];
  if (thiazide !== undefined) {
    return [
      finding({
        ...common,
        concern: `Low sodium (${value} mmol/L) on a thiazide-like diuretic (${thiazide.medication.name.toLowerCase()})`,
        topic: value < 130 ? `Stop ${thiazide.medication.name.toLowerCase()}: sodium is below 130 mmol/L` : `Review ${thiazide.medication.name.toLowerCase()} because of the low sodium`,
        query: 'hyponatraemia on a thiazide-like diuretic in older adults',
        keywords: ['sodium', 'below 130', 'stop the diuretic', 'thiazide-like', 'hyponatraemia'],
        followUps,
      }),
    ];
  }
  if (loop !== undefined) {
    return [
      finding({
        ...common,
        concern: `Low sodium (${value} mmol/L) on a loop diuretic (${loop.medication.name.toLowerCase()})`,
        topic: 'Check electrolytes after diuretic changes',
        query: 'low sodium on a loop diuretic in heart failure: check sodium after diuretic dose changes',
        keywords: ['sodium', 'hyponatraemia', 'diuretic dose', 'check sodium', 'loop diuretics can cause'],
        followUps,
      }),
    ];
  }
  return [finding({ ...common, concern: `Low sodium (${value} mmol/L)`, followUps })];
}

// ---------------------------------------------------------------------------------------------
// Diabetes

function hba1cPercent(series: LabSeries): number {
  const { value, unit } = series.latest;
  return /mmol\/mol/i.test(unit) ? value / 10.929 + 2.15 : value;
}

function diabetes(facts: PatientFacts): ClinicalFinding[] {
  const series = labSeriesOf(facts, 'hba1c');
  const hasDiabetes = facts.conditionKinds.has('type-2-diabetes');
  const findings: ClinicalFinding[] = [];
  if (series !== undefined && hasDiabetes) {
    const percent = hba1cPercent(series);
    const target = facts.age !== undefined && facts.age >= 80 ? 7.5 : 7.0;
    if (percent > target) {
      findings.push(
        finding({
          key: 'hba1c-above-target',
          severity: percent >= 9 ? 'high' : 'medium',
          concern: `HbA1c above the usual individual target of ${target.toFixed(1)}%`,
          evidence: `${describeLabSeries(series)}.`,
          topic: 'Agree the HbA1c target and intensify treatment',
          query: 'HbA1c above target: intensify type 2 diabetes treatment',
          keywords: ['hba1c', 'target', 'second drug', 'add', 'adherence', 'above the agreed target'],
          followUps: [{ action: 'Repeat HbA1c', timeframe: 'in 3 months' }],
          coversLabs: ['hba1c'],
        }),
      );
    } else {
      findings.push(finding({ key: 'hba1c-at-target', coversLabs: ['hba1c'] }));
    }
  } else if (series !== undefined && isOutOfRange(series.latest) && series.latest.value > (series.latest.referenceRange.high ?? Infinity)) {
    findings.push(
      finding({
        key: 'hba1c-without-diabetes',
        severity: 'low',
        concern: 'HbA1c above the reference range without a diabetes diagnosis',
        evidence: `${describeLabSeries(series)}${hasDrugClass(facts, 'oral-corticosteroid') || /prednisolone|steroid/i.test(facts.notesText) ? '; oral corticosteroid courses recorded' : ''}.`,
        followUps: [{ action: 'Repeat HbA1c to look for diabetes', timeframe: 'within 3 to 6 months' }],
        coversLabs: ['hba1c'],
      }),
    );
  }
  if (hasDiabetes) {
    const comorbidities = [
      ...(facts.conditionKinds.has('chronic-kidney-disease') ? ['chronic kidney disease'] : []),
      ...(facts.conditionKinds.has('heart-failure') ? ['heart failure'] : []),
      ...(facts.conditionKinds.has('cardiovascular-disease') ? ['cardiovascular disease'] : []),
    ];
    const egfr = labSeriesOf(facts, 'egfr');
    const eligible = egfr === undefined || egfr.latest.value >= 20;
    if (comorbidities.length > 0 && !hasDrugClass(facts, 'sglt2-inhibitor') && eligible) {
      findings.push(
        finding({
          key: 'sglt2-missing',
          severity: 'medium',
          concern: `Type 2 diabetes with ${comorbidities.join(' and ')} but no SGLT2 inhibitor`,
          evidence: `Active conditions include ${comorbidities.join(', ')}; no SGLT2 inhibitor on the medication list${egfr === undefined ? '' : `; latest eGFR ${egfr.latest.value}`}.`,
          topic: 'Offer an SGLT2 inhibitor for heart and kidney protection',
          query: `SGLT2 inhibitor for type 2 diabetes with ${comorbidities[0]}`,
          keywords: ['sglt2', 'offer', comorbidities[0]!, 'whatever the hba1c', 'down to 20', 'benefit'],
        }),
      );
    } else if (findings.every((item) => item.query === undefined)) {
      findings.push(
        finding({
          key: 'diabetes-background',
          topic: 'Keep the individual HbA1c target and annual checks under review',
          query: 'type 2 diabetes HbA1c targets and annual review',
          keywords: ['hba1c', 'individual', 'target', 'every 3 to 6 months'],
          reason: `Type 2 diabetes is an active condition${series === undefined ? '' : `; ${describeLabSeries(series)}`}.`,
        }),
      );
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Anticoagulation

const BLEEDING = /\b(minor|gum|gums|nose|rectal|vaginal)\s+bleed|bleeding (gums|from the gums)|\bnosebleeds? (since|this|today)/i;

function warfarin(facts: PatientFacts): ClinicalFinding[] {
  const warfarinMedication = medicationsOfClass(facts, 'warfarin')[0];
  if (warfarinMedication === undefined) return [];
  const findings: ClinicalFinding[] = [];
  const inr = labSeriesOf(facts, 'inr');
  const bleeding = BLEEDING.test(facts.notesText);
  if (inr !== undefined) {
    const value = inr.latest.value;
    const high = inr.latest.referenceRange.high ?? 3;
    const low = inr.latest.referenceRange.low ?? 2;
    if (value > high) {
      const band = value > 8 ? 'above 8.0' : value >= 5 ? '5.0 to 8.0' : 'above 3.0 but below 5.0';
      findings.push(
        finding({
          key: 'inr-high',
          severity: value >= 5 || bleeding ? 'high' : 'medium',
          concern: `INR ${value} above the ${low.toFixed(1)}–${high.toFixed(1)} target range on warfarin${bleeding ? ', with minor bleeding reported' : ''}`,
          evidence: `${describeLabSeries(inr)}${bleeding ? '; clinical notes report minor bleeding' : ''}.`,
          topic: bleeding ? 'Withhold warfarin and check the INR today' : 'Adjust warfarin for the high INR',
          query: bleeding ? 'minor bleeding with INR above target range on warfarin' : `warfarin INR ${band} without bleeding`,
          keywords: bleeding ? ['minor bleeding', 'withhold warfarin', 'same day', 'vitamin k', 'inr'] : [band, 'omit', 'withhold', 'recheck the inr', 'dose'],
          followUps: [
            bleeding
              ? { action: 'Check the INR and assess the bleeding', timeframe: 'today' }
              : { action: 'Recheck INR', timeframe: value >= 5 ? 'the next day' : 'within 3 days' },
          ],
          coversLabs: ['inr'],
        }),
      );
    } else if (value < low) {
      findings.push(
        finding({
          key: 'inr-low',
          severity: 'medium',
          concern: `INR ${value} below the ${low.toFixed(1)}–${high.toFixed(1)} target range on warfarin`,
          evidence: `${describeLabSeries(inr)}.`,
          topic: 'Find the cause of the low INR and consider a DOAC',
          query: 'subtherapeutic INR on warfarin: time in therapeutic range and switching to a DOAC',
          keywords: ['time in therapeutic range', 'poor control', 'switching to a doac', 'missed doses', 'inr'],
          followUps: [{ action: 'Recheck INR', timeframe: 'within 1 week' }],
          coversLabs: ['inr'],
        }),
      );
    } else {
      findings.push(finding({ key: 'inr-in-range', coversLabs: ['inr'] }));
    }
  }
  const interacting = medicationsOfClass(facts, 'warfarin-interacting-drug');
  if (interacting.length > 0) {
    const names = interacting.map((medication) => medication.medication.name.toLowerCase());
    findings.push(
      finding({
        key: 'warfarin-interaction',
        severity: 'high',
        concern: `Warfarin with ${names.join(' and ')}, which raise${names.length === 1 ? 's' : ''} the INR`,
        evidence: `${interacting.map((medication) => `${describeMedication(medication.medication)}${courseNote(medication, facts.latestDate)}`).join('; ')}; ${describeMedication(warfarinMedication.medication)}${inr === undefined ? '' : `; ${describeLabSeries(inr)}`}.`,
        topic: `Monitor the INR closely around the ${names.join(' and ')} course`,
        query: `warfarin interaction with ${names[0]!} raising the INR`,
        keywords: [...names, 'raise the inr', 'check the inr', 'within 3 to 5 days', 'interacting'],
        followUps: [{ action: `Recheck the INR after the ${names[0]!} course ends`, timeframe: 'within 3 to 5 days' }],
      }),
    );
  }
  return findings;
}

/** Cockcroft-Gault creatinine clearance (mL/min) from age, actual body weight and creatinine in micromol/L. */
function creatinineClearance(facts: PatientFacts, weightKg: number | undefined, creatinineMicromol: number | undefined): number | undefined {
  if (facts.age === undefined || weightKg === undefined || creatinineMicromol === undefined || creatinineMicromol <= 0) return undefined;
  const factor = facts.record.sex === 'female' ? 1.04 : 1.23;
  return ((140 - facts.age) * weightKg * factor) / creatinineMicromol;
}

function creatinineMicromolPerLitre(series: LabSeries | undefined): number | undefined {
  if (series === undefined) return undefined;
  return /mg\/dl/i.test(series.latest.unit) ? series.latest.value * 88.4 : series.latest.value;
}

function weightKilograms(series: LabSeries | undefined): number | undefined {
  if (series === undefined) return undefined;
  return /lb/i.test(series.latest.unit) ? series.latest.value * 0.4536 : series.latest.value;
}

function doacDosing(facts: PatientFacts): ClinicalFinding[] {
  const doac = medicationsOfClass(facts, 'direct-oral-anticoagulant')[0];
  if (doac === undefined) return [];
  const weight = weightKilograms(labSeriesOf(facts, 'body-weight'));
  const creatinine = creatinineMicromolPerLitre(labSeriesOf(facts, 'creatinine'));
  const clearance = creatinineClearance(facts, weight, creatinine);
  const name = doac.medication.name.toLowerCase();
  const dose = doac.doseMg;
  const measurements = [
    ...(facts.age === undefined ? [] : [`age ${facts.age}`]),
    ...(weight === undefined ? [] : [`weight ${Math.round(weight)} kg`]),
    ...(creatinine === undefined ? [] : [`creatinine ${Math.round(creatinine)} micromol/L`]),
    ...(clearance === undefined ? [] : [`estimated creatinine clearance ${Math.round(clearance)} mL/min (Cockcroft-Gault)`]),
  ].join(', ');
  let expected: number | undefined;
  let why = '';
  if (/apixaban/.test(name)) {
    const criteria = [
      ...(facts.age !== undefined && facts.age >= 80 ? ['age 80 or over'] : []),
      ...(weight !== undefined && weight <= 60 ? ['weight 60 kg or less'] : []),
      ...(creatinine !== undefined && creatinine >= 133 ? ['creatinine 133 micromol/L or more'] : []),
    ];
    const lowClearance = clearance !== undefined && clearance >= 15 && clearance < 30;
    expected = criteria.length >= 2 || lowClearance ? 2.5 : 5;
    why = criteria.length > 0 ? `meets ${criteria.length} of the 3 dose-reduction criteria (${criteria.join(', ')})` : 'meets none of the dose-reduction criteria';
    if (lowClearance) why += '; creatinine clearance 15–29 mL/min';
  } else if (/rivaroxaban/.test(name) && clearance !== undefined) {
    expected = clearance >= 15 && clearance < 50 ? 15 : 20;
    why = `creatinine clearance ${Math.round(clearance)} mL/min`;
  } else if (/edoxaban/.test(name) && (clearance !== undefined || weight !== undefined)) {
    expected = (clearance !== undefined && clearance >= 15 && clearance <= 50) || (weight !== undefined && weight <= 60) ? 30 : 60;
    why = measurements;
  } else if (/dabigatran/.test(name)) {
    expected = facts.age !== undefined && facts.age >= 80 ? 110 : clearance === undefined ? undefined : 150;
    why = measurements;
  }
  const egfr = labSeriesOf(facts, 'egfr');
  const kidneyImpaired = (egfr !== undefined && egfr.latest.value < 60) || facts.conditionKinds.has('chronic-kidney-disease');
  const query = /apixaban/.test(name) ? 'apixaban dose reduction by age, body weight and serum creatinine' : `${name} dose adjustment for creatinine clearance`;
  const keywords = [name, 'creatinine clearance', 'reduce', '2.5 mg', 'at least two', 'body weight', 'underdosing'];
  if (expected !== undefined && dose !== undefined && dose !== expected) {
    const tooHigh = dose > expected;
    return [
      finding({
        key: 'doac-dose',
        severity: tooHigh ? 'high' : 'medium',
        concern: `${doac.medication.name} ${doac.medication.dose} may be too ${tooHigh ? 'high (bleeding risk)' : 'low (stroke risk)'}: the criteria point to ${expected} mg`,
        evidence: `${describeMedication(doac.medication)}; ${why}${measurements === '' || why === measurements ? '' : `; ${measurements}`}.`,
        topic: `Correct the ${name} dose`,
        query,
        keywords,
        followUps: [{ action: `Confirm the ${name} dose against age, weight and creatinine clearance`, timeframe: 'within 1 week' }],
      }),
    ];
  }
  if (kidneyImpaired) {
    return [
      finding({
        key: 'doac-kidney',
        topic: `Keep the ${name} dose matched to kidney function`,
        query,
        keywords,
        reason: `${describeMedication(doac.medication)}${measurements === '' ? '' : `; ${measurements}`}.`,
        followUps: [{ action: 'Check kidney function on the DOAC', timeframe: 'every 6 months (every 3 months if creatinine clearance is below 30)' }],
      }),
    ];
  }
  return [];
}

function atrialFibrillation(facts: PatientFacts): ClinicalFinding[] {
  const findings: ClinicalFinding[] = [];
  const anticoagulants = medicationsOfClass(facts, 'warfarin', 'direct-oral-anticoagulant');
  const falls = facts.activeConditions.some((condition) => /falls?\b/i.test(condition.name)) || /\b(a fall|fell|falls)\b/i.test(facts.notesText);
  if (facts.conditionKinds.has('atrial-fibrillation') && anticoagulants.length === 0) {
    findings.push(
      finding({
        key: 'af-no-anticoagulant',
        severity: 'medium',
        concern: 'Atrial fibrillation without an anticoagulant on the medication list',
        evidence: 'Active atrial fibrillation; no warfarin or DOAC recorded.',
        topic: 'Assess stroke risk and offer anticoagulation',
        query: 'anticoagulation in atrial fibrillation: stroke risk and CHA2DS2-VASc',
        keywords: ['cha2ds2-vasc', 'offer anticoagulation', 'doac', 'stroke'],
      }),
    );
  }
  const antiplatelets = medicationsOfClass(facts, 'antiplatelet');
  if (anticoagulants.length > 0 && antiplatelets.length > 0) {
    findings.push(
      finding({
        key: 'anticoagulant-antiplatelet',
        severity: 'medium',
        concern: `Anticoagulant with ${antiplatelets.map((medication) => medication.medication.name.toLowerCase()).join(' and ')} (bleeding risk)`,
        evidence: [...anticoagulants, ...antiplatelets].map((medication) => describeMedication(medication.medication)).join('; ') + '.',
        topic: 'Review the need for the antiplatelet alongside the anticoagulant',
        query: 'anticoagulant combined with aspirin or another antiplatelet',
        keywords: ['antiplatelet', 'aspirin', 'combination', 'shortest time', 'bleeding'],
      }),
    );
  }
  if (anticoagulants.length > 0 && falls) {
    findings.push(
      finding({
        key: 'falls-anticoagulated',
        severity: 'medium',
        concern: 'Falls while taking an anticoagulant',
        evidence: `${anticoagulants.map((medication) => describeMedication(medication.medication)).join('; ')}; falls recorded in the conditions or notes.`,
        topic: 'Address the cause of the falls rather than stopping anticoagulation',
        query: 'falls and bleeding risk on anticoagulation in atrial fibrillation',
        keywords: ['falls are not a reason', 'falls', 'withhold', 'address the cause'],
        followUps: [{ action: 'Falls assessment (medicines, postural blood pressure, mobility)', timeframe: 'within 2 weeks' }],
      }),
    );
  }
  if (facts.conditionKinds.has('atrial-fibrillation') && anticoagulants.length > 0 && findings.length === 0) {
    const onWarfarin = anticoagulants.some((medication) => medication.classes.has('warfarin'));
    findings.push(
      finding({
        key: 'af-background',
        topic: onWarfarin ? 'Review the quality of INR control and consider a DOAC' : 'Review the anticoagulant yearly',
        query: onWarfarin ? 'warfarin time in therapeutic range and switching to a DOAC in atrial fibrillation' : 'monitoring on an anticoagulant in atrial fibrillation',
        keywords: onWarfarin ? ['time in therapeutic range', 'switching to a doac', 'poor control', 'doac'] : ['at least once a year', 'haemoglobin', 'anticoagulant', 'confirm that the dose'],
        reason: `Active atrial fibrillation on ${anticoagulants.map((medication) => describeMedication(medication.medication)).join('; ')}.`,
      }),
    );
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Lipids

type StatinIntensity = 'high' | 'medium' | 'low';

function statinIntensity(medication: ClassifiedMedication): StatinIntensity | undefined {
  const dose = medication.doseMg;
  if (dose === undefined) return undefined;
  const name = medication.medication.name.toLowerCase();
  if (name.includes('atorvastatin')) return dose >= 20 ? 'high' : 'medium';
  if (name.includes('rosuvastatin')) return dose >= 10 ? 'high' : 'medium';
  if (name.includes('simvastatin')) return dose >= 40 ? 'medium' : 'low';
  if (name.includes('pravastatin') || name.includes('fluvastatin')) return 'low';
  return undefined;
}

function ldlMillimolar(series: LabSeries): number {
  return /mg\/dl/i.test(series.latest.unit) ? series.latest.value / 38.67 : series.latest.value;
}

function lipids(facts: PatientFacts): ClinicalFinding[] {
  const findings: ClinicalFinding[] = [];
  const ldl = labSeriesOf(facts, 'ldl-cholesterol');
  const statin = medicationsOfClass(facts, 'statin')[0];
  const secondary = facts.conditionKinds.has('cardiovascular-disease');
  const intensity = statin === undefined ? undefined : statinIntensity(statin);
  const statinText = statin === undefined ? 'no statin' : `${describeMedication(statin.medication)}${intensity === undefined ? '' : ` (${intensity} intensity)`}`;
  if (secondary && statin === undefined) {
    findings.push(
      finding({
        key: 'statin-missing',
        severity: 'high',
        concern: 'Established cardiovascular disease without a statin',
        evidence: `Active cardiovascular disease; no statin on the medication list${ldl === undefined ? '' : `; ${describeLabSeries(ldl)}`}.`,
        topic: 'Offer high-intensity statin treatment',
        query: 'statin for secondary prevention of cardiovascular disease: atorvastatin 80 mg',
        keywords: ['atorvastatin 80 mg', 'secondary prevention', 'offer', 'established cardiovascular disease'],
        coversLabs: ['ldl-cholesterol'],
      }),
    );
  } else if (secondary && ldl !== undefined && ldlMillimolar(ldl) > 1.8) {
    const value = ldlMillimolar(ldl);
    findings.push(
      finding({
        key: 'ldl-above-target',
        severity: value > 3.6 ? 'high' : 'medium',
        concern: 'LDL cholesterol above the secondary prevention target of 1.8 mmol/L',
        evidence: `${describeLabSeries(ldl)}; on ${statinText}.`,
        topic: intensity === 'high' ? 'Add ezetimibe to reach the LDL target' : 'Raise statin intensity (or add ezetimibe) to reach the LDL target',
        query: 'LDL cholesterol above target in secondary prevention: statin intensity and ezetimibe',
        keywords: ['ldl', '1.8', 'high-intensity', 'ezetimibe', 'increase the statin', 'above target'],
        followUps: [{ action: 'Repeat the lipid profile', timeframe: '2 to 3 months after the change' }],
        coversLabs: ['ldl-cholesterol'],
      }),
    );
  } else if (ldl !== undefined && isOutOfRange(ldl.latest) && ldl.latest.value > (ldl.latest.referenceRange.high ?? Infinity)) {
    findings.push(
      finding({
        key: 'ldl-above-range',
        severity: 'low',
        concern: 'LDL cholesterol above the reference range',
        evidence: `${describeLabSeries(ldl)}; on ${statinText}.`,
        topic: 'Assess cardiovascular risk and statin treatment',
        query: 'statin for primary prevention: who should be offered a statin',
        keywords: ['primary prevention', 'atorvastatin 20 mg', '10%', 'offer'],
        followUps: [{ action: 'Cardiovascular risk assessment', timeframe: 'at the next review' }],
        coversLabs: ['ldl-cholesterol'],
      }),
    );
  }
  if (statin !== undefined && /aching|myalgia|muscle (ache|pain|symptom)/i.test(facts.notesText)) {
    findings.push(
      finding({
        key: 'statin-intolerance',
        severity: 'low',
        concern: 'Previous statin-related muscle symptoms limit the statin choice',
        evidence: `Clinical notes describe muscle symptoms on a statin; now on ${statinText}.`,
        topic: 'Rechallenge with another statin or dose before settling for low intensity',
        query: 'statin intolerance: muscle symptoms and rechallenge',
        keywords: ['rechallenge', 'different statin', 'muscle', 'lower dose', 'alternate-day', 'ezetimibe'],
      }),
    );
  }
  const simvastatin = medicationsOfClass(facts, 'statin').find((medication) => /simvastatin/i.test(medication.medication.name));
  if (simvastatin !== undefined) {
    const strong = medicationsOfClass(facts, 'cyp3a4-strong-inhibitor').filter((medication) => !medication.classes.has('rate-limiting-calcium-channel-blocker') && !/amiodarone/i.test(medication.medication.name));
    const limiting = facts.medications.filter((medication) => /amlodipine|diltiazem|verapamil|amiodarone/i.test(medication.medication.name));
    if (strong.length > 0) {
      const names = strong.map((medication) => medication.medication.name.toLowerCase());
      const completed = strong.every((medication) => courseNote(medication, facts.latestDate).includes('completed'));
      findings.push(
        finding({
          key: 'simvastatin-strong-inhibitor',
          severity: completed ? 'medium' : 'high',
          concern: `Simvastatin with ${names.join(' and ')} (myopathy risk)`,
          evidence: `${describeMedication(simvastatin.medication)}; ${strong.map((medication) => `${describeMedication(medication.medication)}${courseNote(medication, facts.latestDate)}`).join('; ')}.`,
          topic: `Pause simvastatin during any ${names[0]!} course`,
          query: `simvastatin interaction with ${names[0]!}`,
          keywords: ['simvastatin', names[0]!, 'pause simvastatin', 'do not take', 'myopathy'],
        }),
      );
    }
    if (limiting.length > 0 && simvastatin.doseMg !== undefined && simvastatin.doseMg > 20) {
      const names = limiting.map((medication) => medication.medication.name.toLowerCase());
      findings.push(
        finding({
          key: 'simvastatin-dose-limit',
          severity: 'medium',
          concern: `Simvastatin ${simvastatin.medication.dose} exceeds the 20 mg limit with ${names.join(' and ')}`,
          evidence: `${describeMedication(simvastatin.medication)}; ${limiting.map((medication) => describeMedication(medication.medication)).join('; ')}.`,
          topic: 'Reduce simvastatin to 20 mg or switch to atorvastatin',
          query: `simvastatin dose limit with ${names[0]!}`,
          keywords: ['simvastatin', '20 mg', names[0]!, 'limit', 'atorvastatin'],
        }),
      );
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Heart failure and blood pressure

function heartFailure(facts: PatientFacts): ClinicalFinding[] {
  if (!facts.conditionKinds.has('heart-failure')) return [];
  const findings: ClinicalFinding[] = [];
  const peptide = labSeriesOf(facts, 'natriuretic-peptide');
  if (peptide !== undefined && isOutOfRange(peptide.latest)) {
    findings.push(
      finding({
        key: 'natriuretic-peptide-raised',
        severity: 'medium',
        concern: `Raised ${peptide.latest.name} in known heart failure`,
        evidence: `${describeLabSeries(peptide)}.`,
        topic: 'Review fluid status and heart failure treatment',
        query: 'raised NT-proBNP in known heart failure: review fluid status and treatment',
        keywords: ['nt-probnp', 'rising', 'fluid status', 'worsening', 'review'],
        followUps: [{ action: 'Heart failure review: symptoms, weight, fluid status', timeframe: 'within 2 weeks' }],
        coversLabs: ['natriuretic-peptide'],
      }),
    );
  }
  const avoid = facts.medications.filter((medication) => medication.classes.has('rate-limiting-calcium-channel-blocker') || /pioglitazone/i.test(medication.medication.name));
  if (avoid.length > 0) {
    findings.push(
      finding({
        key: 'heart-failure-avoid',
        severity: 'high',
        concern: `${avoid.map((medication) => medication.medication.name).join(' and ')} in heart failure`,
        evidence: avoid.map((medication) => describeMedication(medication.medication)).join('; ') + '.',
        topic: 'Stop medicines that worsen heart failure',
        query: 'medicines to avoid in heart failure',
        keywords: ['avoid', 'verapamil', 'diltiazem', 'pioglitazone', 'fluid retention'],
      }),
    );
  }
  const pillars: [string, boolean][] = [
    ['an ACE inhibitor, ARB or ARNI', hasDrugClass(facts, 'ace-inhibitor', 'angiotensin-receptor-blocker', 'angiotensin-receptor-neprilysin-inhibitor')],
    ['a beta-blocker', hasDrugClass(facts, 'beta-blocker')],
    ['a mineralocorticoid receptor antagonist', hasDrugClass(facts, 'mineralocorticoid-receptor-antagonist')],
    ['an SGLT2 inhibitor', hasDrugClass(facts, 'sglt2-inhibitor')],
  ];
  const missing = pillars.filter(([, present]) => !present).map(([name]) => name);
  const reduced = facts.conditionKinds.has('heart-failure-reduced-ejection-fraction');
  findings.push(
    finding({
      key: 'heart-failure-pillars',
      ...(reduced && missing.length > 0
        ? { severity: 'medium' as const, concern: `Heart failure with reduced ejection fraction without ${missing.join(', ')}`, evidence: 'The medication list lacks one or more of the four pillars of treatment.' }
        : {}),
      topic: missing.length > 0 ? 'Start the missing pillars of heart failure treatment' : 'Keep titrating the four pillars towards target doses',
      query: 'heart failure with reduced ejection fraction: the four pillars of treatment',
      keywords: ['four', 'pillars', 'start all four', 'titrat', 'target doses'],
      reason: missing.length > 0 ? `Missing: ${missing.join(', ')}.` : `All four pillars are on the list (${pillars.length} classes).`,
    }),
  );
  return findings;
}

const BLOOD_PRESSURE = /(home )?blood pressure (?:averages |of |is |was )?(\d{2,3})\/(\d{2,3})/i;

function hypertension(facts: PatientFacts): ClinicalFinding[] {
  const findings: ClinicalFinding[] = [];
  const ace = medicationsOfClass(facts, 'ace-inhibitor');
  const arb = medicationsOfClass(facts, 'angiotensin-receptor-blocker');
  if (ace.length > 0 && arb.length > 0) {
    findings.push(
      finding({
        key: 'ace-with-arb',
        severity: 'high',
        concern: 'ACE inhibitor combined with an ARB',
        evidence: [...ace, ...arb].map((medication) => describeMedication(medication.medication)).join('; ') + '.',
        topic: 'Stop one of the two renin-angiotensin blockers',
        query: 'do not combine an ACE inhibitor with an ARB',
        keywords: ['do not combine', 'ace inhibitor', 'arb', 'hyperkalaemia'],
      }),
    );
  }
  if (!facts.conditionKinds.has('hypertension')) return findings;
  const reading = BLOOD_PRESSURE.exec(facts.notesText);
  if (reading !== null) {
    const home = reading[1] !== undefined;
    const systolic = Number(reading[2]);
    const diastolic = Number(reading[3]);
    const older = facts.age !== undefined && facts.age >= 80;
    const [targetSystolic, targetDiastolic] = home ? (older ? [145, 85] : [135, 85]) : older ? [150, 90] : [140, 90];
    if (systolic >= targetSystolic || diastolic >= targetDiastolic) {
      findings.push(
        finding({
          key: 'blood-pressure-above-target',
          severity: 'medium',
          concern: `Blood pressure above target (${home ? 'home' : 'clinic'} ${systolic}/${diastolic} mmHg; target below ${targetSystolic}/${targetDiastolic})`,
          evidence: `Latest recorded ${home ? 'home' : 'clinic'} blood pressure ${systolic}/${diastolic} mmHg (clinical notes).`,
          topic: 'Bring blood pressure to target',
          query: 'blood pressure targets and adding a second antihypertensive drug',
          keywords: ['target', 'below 140/90', '135/85', 'add a second', 'calcium channel blocker', 'albumin'],
          followUps: [{ action: 'Recheck blood pressure (home readings)', timeframe: 'within 4 weeks' }],
        }),
      );
      return findings;
    }
  }
  const raas = ace.length > 0 || arb.length > 0;
  findings.push(
    finding({
      key: 'hypertension-background',
      topic: raas ? 'Keep monitoring potassium and creatinine on the ACE inhibitor or ARB' : 'Keep blood pressure at target with yearly review',
      query: raas ? 'ACE inhibitor or ARB monitoring of potassium and creatinine in hypertension' : 'hypertension blood pressure targets and annual monitoring',
      keywords: raas ? ['potassium and creatinine', 'ace inhibitor', 'arb', '1 to 2 weeks'] : ['treated hypertension', 'blood pressure', 'at least once a year', 'target'],
      reason: 'Active hypertension.',
    }),
  );
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Lungs

const EXACERBATION_COUNT = /\b(second|two|2|third|three|3|fourth|four|4)\b[^.]{0,20}\bexacerbations?\b/i;
const STEROID_COURSES = /\b(third|three|3|fourth|four|4|fifth|five|5)\b[^.]{0,20}\bcourses? of (oral )?(prednisolone|corticosteroids?|steroids?)\b/i;
const FREQUENT_RELIEVER = /(\d+)\s*(?:to|-|or)\s*(\d+)\s*times a day|several times a day|(\d+)\s*times (a|per) day/i;

function lungs(facts: PatientFacts): ClinicalFinding[] {
  const findings: ClinicalFinding[] = [];
  const copd = facts.conditionKinds.has('copd');
  const asthma = facts.conditionKinds.has('asthma');
  if (!copd && !asthma) return findings;
  const eosinophils = labSeriesOf(facts, 'eosinophils');
  const fev1 = labSeriesOf(facts, 'fev1');
  const reliever = medicationsOfClass(facts, 'short-acting-beta-agonist')[0];
  const inhaled = medicationsOfClass(facts, 'long-acting-muscarinic-antagonist', 'long-acting-beta-agonist', 'inhaled-corticosteroid');
  const inhaledText = inhaled.length === 0 ? 'no maintenance inhaler' : inhaled.map((medication) => describeMedication(medication.medication)).join('; ');
  if (asthma && reliever !== undefined && !hasDrugClass(facts, 'inhaled-corticosteroid')) {
    findings.push(
      finding({
        key: 'asthma-reliever-only',
        severity: 'high',
        concern: 'Asthma treated without an inhaled corticosteroid',
        evidence: `${describeMedication(reliever.medication)}; ${inhaledText}.`,
        topic: 'Start an inhaled corticosteroid (ICS-formoterol)',
        query: 'asthma stepwise treatment: no SABA alone, use ICS-formoterol',
        keywords: ['inhaled corticosteroid', 'ics-formoterol', 'saba', 'alone', 'every adult with asthma'],
      }),
    );
  }
  const exacerbations = EXACERBATION_COUNT.exec(facts.notesText);
  if (copd && exacerbations !== null) {
    const onLama = hasDrugClass(facts, 'long-acting-muscarinic-antagonist');
    const onLaba = hasDrugClass(facts, 'long-acting-beta-agonist');
    findings.push(
      finding({
        key: 'copd-exacerbations',
        severity: 'medium',
        concern: 'Repeated COPD exacerbations on current inhaled treatment',
        evidence:
          `Clinical notes record a ${exacerbations[1]!.toLowerCase()} exacerbation; ${inhaledText}` +
          (eosinophils === undefined ? '' : `; ${describeLabSeries(eosinophils)}`) +
          (fev1 === undefined ? '' : `; ${describeLabSeries(fev1)}`) +
          '.',
        topic: onLama && onLaba ? 'Consider adding an inhaled corticosteroid (triple therapy)' : 'Step up to LAMA+LABA and review the place of an inhaled corticosteroid',
        query: 'COPD with two exacerbations: LAMA+LABA and adding an inhaled corticosteroid by blood eosinophil count',
        keywords: ['two or more moderate exacerbations', 'eosinophil', '0.3', 'lama', 'laba', 'triple therapy'],
        followUps: [{ action: 'Review breathlessness and inhaler technique after the treatment change', timeframe: 'within 4 to 6 weeks' }],
        coversLabs: ['fev1', 'eosinophils'],
      }),
    );
  }
  if (reliever !== undefined && FREQUENT_RELIEVER.test(facts.notesText)) {
    findings.push(
      finding({
        key: 'frequent-reliever',
        severity: 'medium',
        concern: 'Reliever inhaler used several times a day',
        evidence: `${describeMedication(reliever.medication)}; clinical notes describe use several times a day.`,
        topic: 'Review maintenance therapy rather than adding reliever',
        query: copd ? 'reliever used several times a day in COPD: review maintenance therapy' : 'asthma poorly controlled: reliever three or more times a week',
        keywords: copd ? ['several times a day', 'maintenance therapy', 'not adequately treated', 'reliever'] : ['three or more times a week', 'poorly controlled', 'reliever'],
      }),
    );
  }
  if (STEROID_COURSES.test(facts.notesText)) {
    findings.push(
      finding({
        key: 'oral-steroid-courses',
        severity: 'medium',
        concern: 'Three or more oral corticosteroid courses in a year',
        evidence: 'Clinical notes record repeated courses of oral prednisolone in the past year.',
        topic: 'Assess fracture risk and bone protection after repeated steroid courses',
        query: 'bone protection after repeated oral corticosteroid courses',
        keywords: ['three or more courses', 'bone protection', 'fracture risk', 'oral corticosteroids'],
        followUps: [{ action: 'Fracture risk assessment and bone protection review', timeframe: 'at the next review' }],
      }),
    );
  }
  if (findings.length === 0) {
    findings.push(
      finding({
        key: copd ? 'copd-background' : 'asthma-background',
        topic: 'Check inhaler technique and adherence before any change',
        query: copd ? 'COPD inhaled treatment: LAMA and LABA' : 'asthma stepwise treatment in adults',
        keywords: ['inhaler technique', 'adherence', 'review'],
        reason: copd ? `Active COPD; ${inhaledText}.` : `Active asthma; ${inhaledText}.`,
        coversLabs: ['fev1', 'eosinophils'],
      }),
    );
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// Allergies and leftovers

function allergyConflicts(facts: PatientFacts): ClinicalFinding[] {
  return facts.record.allergies.flatMap((allergy, index) => {
    const substance = allergy.substance.toLowerCase();
    const penicillinAllergy = /penicillin|amoxicillin|ampicillin/.test(substance);
    const conflicts = facts.medications.filter(
      (medication) => medication.medication.name.toLowerCase().includes(substance) || (penicillinAllergy && medication.classes.has('penicillin')),
    );
    return conflicts.map((medication) =>
      finding({
        key: `allergy-${index}-${medication.medication.name.toLowerCase()}`,
        severity: 'high',
        concern: `${medication.medication.name} prescribed despite a recorded ${allergy.substance} allergy`,
        evidence: `Allergy: ${allergy.substance}${allergy.reaction === undefined ? '' : ` (${allergy.reaction})`}; medication: ${describeMedication(medication.medication)}.`,
        followUps: [{ action: `Confirm the allergy history and stop ${medication.medication.name.toLowerCase()} if it applies`, timeframe: 'today' }],
      }),
    );
  });
}

/** A generic concern for each out-of-range result that no specific rule accounted for. */
function outOfRangeLabFindings(facts: PatientFacts, covered: ReadonlySet<LabKind>): ClinicalFinding[] {
  return facts.labSeries
    .filter((series) => isOutOfRange(series.latest) && (series.kind === undefined || !covered.has(series.kind)))
    .map((series) => {
      const { value, referenceRange } = series.latest;
      const above = referenceRange.high !== undefined && value > referenceRange.high;
      const bound = above ? referenceRange.high! : referenceRange.low!;
      const deviation = bound === 0 ? 1 : Math.abs(value - bound) / Math.abs(bound);
      return finding({
        key: `lab-${series.latest.name.toLowerCase()}`,
        severity: deviation > 0.25 ? 'medium' : 'low',
        concern: `${series.latest.name} ${above ? 'above' : 'below'} the reference range`,
        evidence: `${describeLabSeries(series)}.`,
      });
    });
}

/** "(7-day course from 2026-04-28, completed)" for a medication given as a course. */
function courseNote(medication: ClassifiedMedication, latestDate: string | undefined): string {
  const course = /for (\d+) days?/i.exec(medication.medication.frequency);
  const start = medication.medication.startDate;
  if (course === null || start === undefined) return '';
  const end = new Date(Date.parse(start) + Number(course[1]) * DAY_MS).toISOString().slice(0, 10);
  const completed = latestDate !== undefined && end <= latestDate;
  return ` (course from ${start}${completed ? `, completed ${end}` : `, until ${end}`})`;
}

const RULES: readonly Rule[] = [
  allergyConflicts,
  metforminAndKidneys,
  kidneyFunction,
  nsaids,
  potassium,
  sodium,
  warfarin,
  doacDosing,
  atrialFibrillation,
  lipids,
  diabetes,
  heartFailure,
  hypertension,
  lungs,
];
