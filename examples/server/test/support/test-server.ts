// Builds servers over mocks of the four adapters for the route tests.
import { Writable } from 'node:stream';
import {
  createMockChatModel,
  createMockEmbedder,
  createGuidelineVectorStore,
  createMockPatientRepository,
  examplePatientRecord,
  scriptedBriefingTurns,
  type MockChatModel,
  type MockChatModelOptions,
  type MockEmbedder,
  type MockPatientRepository,
  type MockVectorStore,
} from '@aidoc/core/testing';
import { loadConfig, type AppConfig } from '@aidoc/example-config';
import type { FastifyInstance } from 'fastify';
import { buildServer, type BuildServerOptions } from '../../src/build-server.ts';

const DIMENSIONS = 32;

export const API_KEY = 'test-key-0123456789abcdef';

/** A model that searches twice, then submits a briefing citing S1; any number of briefings. */
export function scriptedModel(options: Omit<MockChatModelOptions, 'turns'> = {}): MockChatModel {
  return createMockChatModel({ ...options, turns: scriptedBriefingTurns() });
}

export interface TestAdapters {
  readonly embedder: MockEmbedder;
  readonly vectorStore: MockVectorStore;
  readonly patients: MockPatientRepository;
  readonly model: MockChatModel;
  readonly closed: { count: number };
  close(): Promise<void>;
}

export function mockAdapters(overrides: Partial<Omit<TestAdapters, 'closed' | 'close'>> & { emptyCollection?: boolean } = {}): TestAdapters {
  const closed = { count: 0 };
  return {
    embedder: overrides.embedder ?? createMockEmbedder({ dimensions: DIMENSIONS }),
    vectorStore: overrides.vectorStore ?? createGuidelineVectorStore({ dimensions: DIMENSIONS, empty: overrides.emptyCollection === true }),
    patients: overrides.patients ?? createMockPatientRepository({ records: [examplePatientRecord('1')] }),
    model: overrides.model ?? scriptedModel(),
    closed,
    close() {
      closed.count++;
      return Promise.resolve();
    },
  };
}

export function testConfig(environment: Record<string, string> = {}): AppConfig {
  return loadConfig({ PORT: '0', ...environment });
}

/** A server over mocks; `adapters` are returned for assertions. Logs are off unless given. */
export async function mockServer(
  options: { adapters?: TestAdapters; environment?: Record<string, string> } & Omit<Partial<BuildServerOptions>, 'adapters' | 'config'> = {},
): Promise<{ server: FastifyInstance; adapters: TestAdapters }> {
  const { adapters = mockAdapters(), environment, ...rest } = options;
  const server = await buildServer({ logger: false, ...rest, config: testConfig(environment), adapters });
  return { server, adapters };
}

/** A destination that keeps every log line, for asserting what the server logs. */
export function logCapture(): { stream: Writable; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = (): string => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The frames of an SSE body, in order. */
export function parseServerSentEvents(body: string): { event: string; data: unknown }[] {
  return body
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)).join('\n');
      return { event, data: JSON.parse(data) as unknown };
    });
}
