import path from 'node:path';
import { samplePatientsFile } from '@aidoc/local';
import { z } from 'zod';

const positiveInteger = z.coerce.number().int().positive();
const optionalSecret = z.string().trim().min(1).optional();

/** Where the examples keep the embedded store, unless AIDOC_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIRECTORY = path.resolve(import.meta.dirname, '..', '..', '..', '.aidoc');

/**
 * The environment variables of the example apps. Every adapter switches between the embedded
 * default and its production twin with one variable; each production adapter's own settings are
 * required only when it is selected.
 */
const EnvironmentSchema = z
  .object({
    AIDOC_EMBEDDER: z.enum(['local', 'vertex']).default('local'),
    AIDOC_VECTOR_STORE: z.enum(['local', 'qdrant']).default('local'),
    AIDOC_PATIENTS: z.enum(['local', 'postgres']).default('local'),
    AIDOC_MODEL: z.enum(['offline', 'anthropic']).default('offline'),
    AIDOC_COLLECTION: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-", up to 64').default('guidelines'),
    AIDOC_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIRECTORY),
    AIDOC_PATIENTS_FILE: z.string().min(1).default(samplePatientsFile),
    /** Simulated latency of the offline model's turns, so traces look like a real model's. */
    AIDOC_OFFLINE_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    AIDOC_API_KEY: z.string().min(16, 'at least 16 characters').optional(),
    AIDOC_MAX_TURNS: positiveInteger.max(20).default(4),
    AIDOC_POOL_MODEL: positiveInteger.optional(),
    AIDOC_POOL_EMBEDDER: positiveInteger.optional(),
    AIDOC_POOL_VECTOR_STORE: positiveInteger.optional(),
    AIDOC_POOL_PATIENTS: positiveInteger.optional(),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    QDRANT_URL: z.url().optional(),
    QDRANT_API_KEY: optionalSecret,
    GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
    GOOGLE_CLOUD_LOCATION: z.string().min(1).default('us-central1'),
    AIDOC_VERTEX_MODEL: z.string().min(1).default('text-embedding-005'),
    ANTHROPIC_API_KEY: optionalSecret,
    AIDOC_ANTHROPIC_MODEL: z.string().min(1).optional(),
    DATABASE_URL: z.string().min(1).optional(),
  })
  .superRefine((environment, context) => {
    const require = (selected: boolean, name: keyof typeof environment, why: string): void => {
      if (selected && environment[name] === undefined) context.addIssue({ code: 'custom', path: [name], message: `required when ${why}` });
    };
    require(environment.AIDOC_VECTOR_STORE === 'qdrant', 'QDRANT_URL', 'AIDOC_VECTOR_STORE=qdrant');
    require(environment.AIDOC_EMBEDDER === 'vertex', 'GOOGLE_CLOUD_PROJECT', 'AIDOC_EMBEDDER=vertex');
    require(environment.AIDOC_MODEL === 'anthropic', 'ANTHROPIC_API_KEY', 'AIDOC_MODEL=anthropic');
    require(environment.AIDOC_PATIENTS === 'postgres', 'DATABASE_URL', 'AIDOC_PATIENTS=postgres');
  });

export type AppConfig = z.infer<typeof EnvironmentSchema>;

/** A configuration that failed validation: one line per bad variable, values never echoed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Reads and validates the configuration from environment variables; throws ConfigError. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty variables count as unset, as shells and .env files often leave them.
  const defined = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvironmentSchema.safeParse(defined);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
}
