import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/app-config.ts';
import { createAdapters, poolSizes } from '../src/adapters.ts';

describe('loadConfig', () => {
  it('defaults to the embedded adapters, so the examples run with no keys and no servers', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ AIDOC_EMBEDDER: 'local', AIDOC_VECTOR_STORE: 'local', AIDOC_PATIENTS: 'local', AIDOC_MODEL: 'offline', PORT: 3000, AIDOC_MAX_TURNS: 4 });
    expect(poolSizes(config)).toEqual({});
  });

  it('reports every bad value on its own line, naming the variable and never echoing a secret', () => {
    const secret = 'sk-ant-SECRET-VALUE';
    try {
      loadConfig({ AIDOC_MODEL: 'anthropic', AIDOC_EMBEDDER: 'openai', PORT: 'eighty', AIDOC_API_KEY: 'short', AIDOC_POOL_MODEL: '0', QDRANT_API_KEY: secret });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/^AIDOC_EMBEDDER: /m);
      expect(problems).toMatch(/^PORT: /m);
      expect(problems).toMatch(/^AIDOC_API_KEY: .*16/m);
      expect(problems).toMatch(/^AIDOC_POOL_MODEL: /m);
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).not.toContain('short');
    }
  });

  it('requires each production adapter\'s settings only when it is selected, and treats empty variables as unset', () => {
    expect(() => loadConfig({ AIDOC_VECTOR_STORE: 'qdrant' })).toThrow(/QDRANT_URL: required when AIDOC_VECTOR_STORE=qdrant/);
    expect(() => loadConfig({ AIDOC_PATIENTS: 'postgres', DATABASE_URL: '' })).toThrow(/DATABASE_URL: required/);
    expect(() => loadConfig({ AIDOC_EMBEDDER: 'vertex' })).toThrow(/GOOGLE_CLOUD_PROJECT: required/);
    expect(loadConfig({ AIDOC_VECTOR_STORE: 'qdrant', QDRANT_URL: 'http://127.0.0.1:6333' }).QDRANT_URL).toBe('http://127.0.0.1:6333');
    expect(poolSizes(loadConfig({ AIDOC_POOL_EMBEDDER: '8' }))).toEqual({ embedder: { concurrency: 8 } });
  });

  it('switches every adapter with one variable', async () => {
    const local = createAdapters(loadConfig({}), 'server');
    expect([local.embedder.provider, local.vectorStore.provider, local.patients.provider, local.model.provider]).toEqual(['local-hashing', 'local-file', 'local-json', 'offline']);
    await local.close();
    const production = createAdapters(
      loadConfig({
        AIDOC_EMBEDDER: 'vertex',
        GOOGLE_CLOUD_PROJECT: 'demo-project',
        AIDOC_VECTOR_STORE: 'qdrant',
        QDRANT_URL: 'http://127.0.0.1:6333',
        AIDOC_PATIENTS: 'postgres',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        AIDOC_MODEL: 'anthropic',
        ANTHROPIC_API_KEY: 'test-key-not-used',
      }),
      'server',
    );
    expect([production.embedder.provider, production.vectorStore.provider, production.patients.provider, production.model.provider]).toEqual([
      'vertex',
      'qdrant',
      'postgres',
      'anthropic',
    ]);
    await production.close();
  });
});
