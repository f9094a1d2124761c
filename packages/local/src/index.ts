// @aidoc/local: the embedded defaults. No network, no keys, no servers.
export {
  createHashingEmbedder,
  type CharacterNgramRange,
  type HashingEmbedderOptions,
  type HashingFeatureWeights,
} from './hashing-embedder.ts';
export { normalizeText, stem, tokenize, QUERY_FRAMING_WORDS, STOPWORDS, type TokenizeOptions } from './text-features.ts';
export { createJsonPatientRepository, type JsonPatientRepository, type JsonPatientRepositoryOptions } from './json-patient-repository.ts';
export { createOfflineModel, type OfflineModelLatency, type OfflineModelOptions } from './offline-model.ts';
export { sampleGuidelineFileNames, sampleGuidelineFiles, sampleGuidelinesDirectory, samplePatientsFile } from './sample-data.ts';
export { createFileVectorStore, type FileVectorStore } from './file-vector-store.ts';
export type { FileVectorStoreOptions } from './file-vector-store-options.ts';
