import { testVectorStore } from '@aidoc/core/testing';
import { QdrantClient } from '@qdrant/js-client-rest';
import { describe } from 'vitest';
import { createQdrantVectorStore } from '../src/index.ts';

// Opt-in: runs the conformance suite against a real Qdrant when QDRANT_URL is set, e.g.
//   docker run -p 6333:6333 qdrant/qdrant:v1.19.0
//   QDRANT_URL=http://localhost:6333 npx vitest run --project vector-store-qdrant qdrant-live
// (QDRANT_API_KEY too for a secured server or Qdrant Cloud). Each run uses its own collection
// prefix and drops every collection it created.
const url = process.env.QDRANT_URL;

describe.skipIf(url === undefined || url === '')('live Qdrant (QDRANT_URL)', () => {
  const apiKey = process.env.QDRANT_API_KEY === '' ? undefined : process.env.QDRANT_API_KEY;
  const admin = new QdrantClient({ url, apiKey, checkCompatibility: false });
  const prefix = `aidoc-live-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;

  testVectorStore({
    name: `qdrant (live, ${url ?? ''})`,
    create: () => createQdrantVectorStore({ url, apiKey, checkCompatibility: false }),
    collectionPrefix: prefix,
    cleanup: async (_store, { collections }) => {
      for (const name of collections) {
        if ((await admin.collectionExists(name)).exists) await admin.deleteCollection(name);
      }
    },
    // A remote server over a real network: leave room beyond the loopback default of 200 ms.
    abortWithinMs: 1000,
  });
});
