import { runBriefingAgent } from '../agent/briefing-agent.ts';
import type { BriefingEvent, BriefingUsage } from '../agent/briefing-events.ts';
import { GuidelineSearch } from '../agent/guideline-search.ts';
import { SearchResultTexts } from '../agent/search-result-texts.ts';
import type { RetrievedSource } from '../agent/source-xml.ts';
import type { ChatModel } from '../contracts/chat-model.ts';
import type { Embedder } from '../contracts/embedder.ts';
import type { PatientBriefing } from '../contracts/patient-briefing.ts';
import { PatientIdSchema } from '../contracts/patient-record.ts';
import type { PatientRepository } from '../contracts/patient-repository.ts';
import { assertSpecification } from '../contracts/specification.ts';
import type { Filter, VectorStore } from '../contracts/vector-store.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { toAidocError } from '../errors/to-aidoc-error.ts';
import { expectDelay, expectPositiveInteger } from '../errors/validate-option.ts';
import { callUpstream, type CallPolicy } from '../executor/call-policy.ts';
import { gather } from '../executor/gather.ts';
import { takeCpuTurn } from '../executor/cpu-turns.ts';
import { getPool } from '../executor/pool-registry.ts';
import type { Trace } from '../tracing/span.ts';
import { runTraced } from '../tracing/trace-context.ts';
import { CollectionCheck } from './collection-check.ts';
import { DEFAULT_POOLS, type DefaultPoolName } from './default-pools.ts';
import { eventStream } from './event-stream.ts';

/** Policies per upstream; unset fields take the defaults below. */
export interface BriefingPolicies {
  /** @default { pool: 'model', timeoutMs: 120_000, retry: { attempts: 3 } } */
  readonly model?: CallPolicy;
  /** @default { pool: 'embedder', timeoutMs: 10_000, retry: { attempts: 3 } } */
  readonly embedder?: CallPolicy;
  /** @default { pool: 'vectorStore', timeoutMs: 5_000, retry: { attempts: 3 } } */
  readonly vectorStore?: CallPolicy;
  /** @default { pool: 'patients', timeoutMs: 5_000, retry: { attempts: 2 } } */
  readonly patients?: CallPolicy;
}

export interface BriefingPipelineOptions {
  readonly patients: PatientRepository;
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly model: ChatModel;
  /** The vector collection holding the ingested guidelines. */
  readonly collection: string;
  /** Restricts every guideline search. */
  readonly filter?: Filter;
  /** @default 4 */
  readonly maxTurns?: number;
  /** Output token budget of one model turn. @default 4096 */
  readonly maxTokens?: number;
  /**
   * Query embeddings kept for reuse across briefings (the same questions recur across patients).
   * @default { maxEntries: 1000, ttlMs: 600_000 }
   */
  readonly queryCache?: { readonly maxEntries: number; readonly ttlMs: number };
  /**
   * How long a "the collection exists and holds points" answer is trusted before the vector store
   * is asked again, in milliseconds; `0` asks on every briefing. A missing or empty collection is
   * never trusted: the next briefing asks again.
   * @default 5_000
   */
  readonly collectionCheckTtlMs?: number;
  /**
   * Pools, timeouts and retries per upstream. Pools are process-wide and named (`definePools`),
   * so every pipeline in the process shares one budget per upstream.
   */
  readonly policies?: BriefingPolicies;
}

export interface BriefOptions {
  /** Cancels the briefing: every upstream call it started is aborted. */
  readonly signal?: AbortSignal;
}

export interface BriefingResult {
  readonly briefing: PatientBriefing;
  /** The sources the briefing cites, under the ids it cites them by. */
  readonly sources: readonly RetrievedSource[];
  readonly usage: BriefingUsage;
  /** Spans of this briefing: render with `renderWaterfall`, `renderLatencyBreakdown`, `toChromeTrace`. */
  readonly trace: Trace;
}

export interface BriefingPipeline {
  /** One briefing: the patient and the collection are fetched concurrently, then the agent runs. */
  brief(patientId: string, options?: BriefOptions): Promise<BriefingResult>;
  /**
   * The same run as events, for live UIs. Ends with `briefing` and `done`, or with one `error`
   * event (the iterator then finishes normally). Breaking out of the loop aborts the run.
   */
  stream(patientId: string, options?: BriefOptions): AsyncIterable<BriefingEvent>;
}

const DEFAULT_POLICIES: Required<BriefingPolicies> = {
  model: { pool: 'model', timeoutMs: 120_000, retry: { attempts: 3 } },
  embedder: { pool: 'embedder', timeoutMs: 10_000, retry: { attempts: 3 } },
  vectorStore: { pool: 'vectorStore', timeoutMs: 5_000, retry: { attempts: 3 } },
  patients: { pool: 'patients', timeoutMs: 5_000, retry: { attempts: 2 } },
};


/**
 * Creates the briefing pipeline: fetch the patient record and the collection info concurrently,
 * run the agent loop (concurrent searches per turn, cited sources), and return a validated,
 * structured briefing with its usage and trace.
 *
 * @example
 * ```ts
 * const pipeline = createBriefingPipeline({ patients, embedder, vectorStore, model, collection: 'guidelines' });
 * const { briefing, sources, trace } = await pipeline.brief('1', { signal });
 * ```
 */
export function createBriefingPipeline(options: BriefingPipelineOptions): BriefingPipeline {
  assertSpecification('patients', options.patients);
  assertSpecification('embedder', options.embedder);
  assertSpecification('vectorStore', options.vectorStore);
  assertSpecification('model', options.model);
  const maxTurns = options.maxTurns ?? 4;
  const maxTokens = options.maxTokens ?? 4096;
  expectPositiveInteger('maxTurns', maxTurns);
  expectPositiveInteger('maxTokens', maxTokens);
  const collectionCheckTtlMs = options.collectionCheckTtlMs ?? 5_000;
  expectDelay('collectionCheckTtlMs', collectionCheckTtlMs);
  const collectionCheck = new CollectionCheck(options.collection, collectionCheckTtlMs);
  const policies = resolvePolicies(options.policies);
  const searchResultTexts = new SearchResultTexts();
  const guidelineSearch = new GuidelineSearch({
    embedder: options.embedder,
    vectorStore: options.vectorStore,
    collection: options.collection,
    ...(options.filter === undefined ? {} : { filter: options.filter }),
    embedderPolicy: policies.embedder,
    vectorStorePolicy: policies.vectorStore,
    ...(options.queryCache === undefined ? {} : { queryCache: options.queryCache }),
  });

  async function run(patientId: string, signal: AbortSignal | undefined, emit: (event: BriefingEvent) => void, trace: Trace) {
    const id = PatientIdSchema.safeParse(patientId);
    if (!id.success) {
      throw new AidocError('INVALID_INPUT', 'A patient id is a positive integer (1 to 12 digits)', { details: { patientId: String(patientId).slice(0, 40) } });
    }
    trace.root.setAttribute('patient.id', id.data);
    // A burst of requests arriving together starts its work in turns, not in one stall.
    await takeCpuTurn(signal);
    const { patient } = await gather(
      {
        patient: ({ signal: taskSignal }) =>
          callUpstream('patients.getById', policies.patients, taskSignal, (attemptSignal) =>
            options.patients.getById(id.data, { signal: attemptSignal }),
          ),
        collection: ({ signal: taskSignal }) =>
          collectionCheck.ensureReady(
            (sharedSignal) =>
              callUpstream('vectorStore.info', policies.vectorStore, sharedSignal, (attemptSignal) =>
                options.vectorStore.info(options.collection, { signal: attemptSignal }),
              ),
            taskSignal,
          ),
      },
      { signal },
    );
    emit({ type: 'patient_loaded', patientId: patient.id });
    return runBriefingAgent(
      { model: options.model, modelPolicy: policies.model, maxTurns, maxTokens, searchResultTexts },
      { record: patient, search: guidelineSearch.forRun(), signal, emit },
    );
  }

  return {
    async brief(patientId, briefOptions = {}) {
      const { value, trace } = await runTraced(TRACE_NAME, (trace) => run(patientId, briefOptions.signal, ignoreEvent, trace));
      return { ...value, trace };
    },
    stream(patientId, briefOptions = {}) {
      return eventStream<BriefingEvent>(briefOptions.signal, async (emit, signal) => {
        const startedAt = performance.now();
        try {
          const { value, trace } = await runTraced(TRACE_NAME, (trace) => run(patientId, signal, emit, trace));
          emit({ type: 'briefing', briefing: value.briefing, sources: value.sources });
          emit({ type: 'done', usage: value.usage, durationMs: performance.now() - startedAt, trace });
        } catch (error) {
          const failure = toAidocError(error);
          emit({ type: 'error', code: failure.code, message: failure.message, retryable: failure.retryable });
        }
      });
    },
  };
}

function ignoreEvent(): void {}

/** One name for every briefing trace (a stable metrics label); the patient id is an attribute. */
const TRACE_NAME = 'briefing';

function resolvePolicies(overrides: BriefingPolicies | undefined): Required<BriefingPolicies> {
  const resolved = { ...DEFAULT_POLICIES, ...overrides };
  for (const policy of Object.values(resolved)) {
    // Named pools the application did not define get a default size, once, process-wide.
    if (typeof policy.pool === 'string') getPool(policy.pool, DEFAULT_POOLS[policy.pool as DefaultPoolName] ?? DEFAULT_POOLS.embedder);
  }
  return resolved;
}
