import { fileURLToPath } from 'node:url';

/**
 * The sample data that ships with @aidoc/local: synthetic patients and guideline documents
 * written for the demo. The guidelines are sample guidance for a software demo, not medical
 * advice; the patients (names, dates, results) are invented.
 */

/** Absolute path of `sample-data/patients.json`: six synthetic records (ids "1" to "6"). */
export const samplePatientsFile: string = fileURLToPath(new URL('../sample-data/patients.json', import.meta.url));

/** Absolute path of the `sample-data/guidelines` directory (Markdown, one document per topic). */
export const sampleGuidelinesDirectory: string = fileURLToPath(new URL('../sample-data/guidelines/', import.meta.url));

/** File names of the sample guideline documents, in `sampleGuidelinesDirectory`. */
export const sampleGuidelineFileNames: readonly string[] = Object.freeze([
  'anticoagulation.md',
  'asthma-copd.md',
  'chronic-kidney-disease-drug-dosing.md',
  'heart-failure.md',
  'hyperkalaemia.md',
  'hypertension.md',
  'lipids.md',
  'type-2-diabetes.md',
]);

/** Absolute paths of the sample guideline documents, for an ingest run. */
export const sampleGuidelineFiles: readonly string[] = Object.freeze(
  sampleGuidelineFileNames.map((name) => fileURLToPath(new URL(`../sample-data/guidelines/${name}`, import.meta.url))),
);
