import { testChatModel } from '@aidoc/core/testing';
import { describe } from 'vitest';
import { createAnthropicModel, DEFAULT_ANTHROPIC_MODEL } from '../src/index.ts';

// Opt-in: runs the conformance suite against the real Messages API when ANTHROPIC_API_KEY is set
// (ANTHROPIC_LIVE_MODEL picks the model; each check costs a few hundred tokens).
const apiKey = process.env.ANTHROPIC_API_KEY;
const model = process.env.ANTHROPIC_LIVE_MODEL ?? DEFAULT_ANTHROPIC_MODEL;

describe.skipIf(apiKey === undefined || apiKey === '')(`live Anthropic Messages API (${model})`, () => {
  for (const stream of [false, true]) {
    testChatModel({
      name: `anthropic live (${stream ? 'streaming' : 'JSON'})`,
      create: () => createAnthropicModel({ apiKey: apiKey!, model, stream }),
      maxTokens: 128,
      abortWithinMs: 1_000,
    });
  }
});
