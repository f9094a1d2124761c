import type { ChatModel, Embedder, PatientRepository, PoolConfig, VectorStore } from '@aidoc/core';
import { createVertexEmbedder } from '@aidoc/embedder-vertex';
import { createAnthropicModel } from '@aidoc/llm-anthropic';
import { createFileVectorStore, createHashingEmbedder, createJsonPatientRepository, createOfflineModel } from '@aidoc/local';
import { createPostgresPatientRepository } from '@aidoc/patient-repo-postgres';
import { createQdrantVectorStore } from '@aidoc/vector-store-qdrant';
import path from 'node:path';
import type { AppConfig } from './app-config.ts';

export interface Adapters {
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly patients: PatientRepository;
  readonly model: ChatModel;
  /** Releases what the adapters hold (database pools, store locks, worker threads). */
  close(): Promise<void>;
}

/**
 * The adapters the configuration selects. `role` decides how the embedded store is opened: the
 * server only reads (and reloads when an ingest run rewrites the file), the ingest CLI writes.
 */
export function createAdapters(config: AppConfig, role: 'server' | 'ingest'): Adapters {
  const closers: (() => Promise<void>)[] = [];
  const embedder =
    config.AIDOC_EMBEDDER === 'vertex'
      ? createVertexEmbedder({ project: config.GOOGLE_CLOUD_PROJECT, location: config.GOOGLE_CLOUD_LOCATION, model: config.AIDOC_VERTEX_MODEL })
      : createHashingEmbedder();
  if ('close' in embedder && typeof embedder.close === 'function') closers.push(() => (embedder.close as () => Promise<void>)());

  let vectorStore: VectorStore;
  if (config.AIDOC_VECTOR_STORE === 'qdrant') {
    vectorStore = createQdrantVectorStore({ url: config.QDRANT_URL, apiKey: config.QDRANT_API_KEY });
  } else {
    const store = createFileVectorStore({ directory: path.join(config.AIDOC_DATA_DIR, 'vectors'), readOnly: role === 'server' });
    closers.push(() => store.close());
    vectorStore = store;
  }

  let patients: PatientRepository;
  if (config.AIDOC_PATIENTS === 'postgres') {
    const repository = createPostgresPatientRepository({ connectionString: config.DATABASE_URL });
    closers.push(() => repository.close());
    patients = repository;
  } else {
    patients = createJsonPatientRepository({ file: config.AIDOC_PATIENTS_FILE });
  }

  const model =
    config.AIDOC_MODEL === 'anthropic'
      ? createAnthropicModel({ apiKey: config.ANTHROPIC_API_KEY, ...(config.AIDOC_ANTHROPIC_MODEL === undefined ? {} : { model: config.AIDOC_ANTHROPIC_MODEL }) })
      : createOfflineModel({ latencyMs: config.AIDOC_OFFLINE_LATENCY_MS });

  return {
    embedder,
    vectorStore,
    patients,
    model,
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}

/** Pool sizes from AIDOC_POOL_*; unset ones keep core's defaults (`DEFAULT_POOLS`). */
export function poolSizes(config: AppConfig): Record<string, PoolConfig> {
  const sizes: Record<string, number | undefined> = {
    model: config.AIDOC_POOL_MODEL,
    embedder: config.AIDOC_POOL_EMBEDDER,
    vectorStore: config.AIDOC_POOL_VECTOR_STORE,
    patients: config.AIDOC_POOL_PATIENTS,
  };
  return Object.fromEntries(Object.entries(sizes).flatMap(([name, concurrency]) => (concurrency === undefined ? [] : [[name, { concurrency }]])));
}
