// Opt-in: the conformance suite against the real Vertex AI API. Runs only when a project and a
// credentials file are set, e.g.
//   GOOGLE_CLOUD_PROJECT=my-project GOOGLE_APPLICATION_CREDENTIALS=~/key.json npx vitest run --project embedder-vertex vertex-live
// (GOOGLE_CLOUD_LOCATION picks the region, default us-central1). It makes about 20 small requests.
import { testEmbedder } from '@aidoc/core/testing';
import { describe } from 'vitest';
import { createVertexEmbedder } from '../src/index.ts';

const configured = Boolean(process.env.GOOGLE_CLOUD_PROJECT) && Boolean(process.env.GOOGLE_APPLICATION_CREDENTIALS);

describe.skipIf(!configured)('Vertex AI (live)', () => {
  testEmbedder({
    name: 'vertex (live API)',
    create: () => createVertexEmbedder(),
    cleanup: (embedder) => embedder.close(),
    // A hosted model is not always bit-for-bit repeatable across batch compositions.
    tolerance: 0.005,
  });
});
