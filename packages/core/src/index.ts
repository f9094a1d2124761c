// Errors
export { AidocError, AidocErrorCode, type AidocErrorOptions } from './errors/aidoc-error.ts';
export { abortError, toAidocError } from './errors/to-aidoc-error.ts';

// Executor: task graphs and gather
export { gather, gatherSettled, type GatherCall, type GatherOptions } from './executor/gather.ts';
export type { RunMode } from './executor/graph-run.ts';
export type { RunOptions, TaskContext, TaskFunction, TaskOptions, TaskOutcome } from './executor/task-definition.ts';
export { TaskGraph, TaskGraphBuilder, taskGraph, type SettledResults } from './executor/task-graph.ts';

// Executor: pools, retry, timeout, abort, coalescing, caching
export { linkSignal, raceWithAbort, sleep, throwIfAborted, type LinkedSignal } from './executor/abort.ts';
export { Coalescer, type CoalesceOptions } from './executor/coalesce.ts';
export { ConcurrencyPool, type PoolOptions, type PoolRate, type PoolRunOptions } from './executor/pool.ts';
export { definePools, getPool, listPools, resetPools, type PoolConfig } from './executor/pool-registry.ts';
export { withRetry, type RetryInfo, type RetryOptions, type WithRetryOptions } from './executor/retry.ts';
export { withTimeout, type TimeoutOptions } from './executor/timeout.ts';
export { memoiseText } from './executor/text-memo.ts';
export { TtlCache, type TtlCacheOptions } from './executor/ttl-cache.ts';
export { cpuTurnQueueLength, takeCpuTurn } from './executor/cpu-turns.ts';

// Tracing: spans and reports
export {
  Span,
  Trace,
  type SpanAnnotation,
  type SpanAttributeValue,
  type SpanKind,
  type SpanListener,
  type SpanStatus,
} from './tracing/span.ts';
export {
  addSpanListener,
  currentSpan,
  runInSpan,
  runTraced,
  startTrace,
  withSpan,
  type TracedResult,
} from './tracing/trace-context.ts';
export { toChromeTrace, type ChromeTrace, type ChromeTraceEvent } from './tracing/chrome-trace.ts';
export { criticalPath, criticalPathSegments, type CriticalPathSegment } from './tracing/critical-path.ts';
export {
  latencyBreakdown,
  renderLatencyBreakdown,
  type LatencyBreakdown,
  type LatencyBreakdownRow,
  type RenderLatencyBreakdownOptions,
} from './tracing/latency-breakdown.ts';
export { setOpenTelemetryEnabled } from './tracing/opentelemetry-bridge.ts';
export { toTraceJson, type SpanJson, type TraceJson } from './tracing/trace-json.ts';
export { renderWaterfall, type WaterfallOptions } from './tracing/waterfall.ts';

// Never block the event loop
export {
  createEventLoopMonitor,
  describeStall,
  type EventLoopMonitor,
  type EventLoopMonitorMode,
  type EventLoopMonitorOptions,
  type EventLoopStall,
  type EventLoopStats,
} from './tracing/event-loop-monitor.ts';
export {
  createOffloader,
  destroySharedOffloaders,
  offload,
  type OffloadOptions,
  type OffloadRunOptions,
  type Offloader,
  type OffloaderOptions,
  type OffloaderStats,
} from './executor/offload.ts';

// Adapter contracts (versioned) and the data schemas
export type { CallOptions, SpecificationVersion } from './contracts/call-options.ts';
export type { ChatMessage, ChatModel, ContentBlock, GenerateRequest, GenerateResult, StopReason, TextBlock, ToolCallBlock, ToolChoice, ToolDefinition, ToolResultBlock, Usage } from './contracts/chat-model.ts';
export type { EmbedOptions, Embedder, EmbeddingKind } from './contracts/embedder.ts';
export { estimateTokens } from './contracts/estimate-tokens.ts';
export { estimateBlockTokens, estimateInputTokens } from './contracts/estimate-usage.ts';
export {
  FollowUpSchema,
  KeyConcernSchema,
  MedicationReviewItemSchema,
  PatientBriefingSchema,
  RecommendationSchema,
  SourceIdSchema,
  type FollowUp,
  type KeyConcern,
  type MedicationReviewItem,
  type PatientBriefing,
  type Recommendation,
} from './contracts/patient-briefing.ts';
export {
  AllergySchema,
  ClinicalNoteSchema,
  ConditionSchema,
  LabResultSchema,
  MedicationSchema,
  PatientIdSchema,
  PatientRecordSchema,
  isOutOfRange,
  type Allergy,
  type ClinicalNote,
  type Condition,
  type LabResult,
  type Medication,
  type PatientRecord,
} from './contracts/patient-record.ts';
export type { PatientListing, PatientRepository } from './contracts/patient-repository.ts';
export { compileFilter, isEmptyFilter, matchesFilter, type PayloadPredicate } from './contracts/payload-filter.ts';
export { assertSpecification } from './contracts/specification.ts';
export type {
  CollectionInfo,
  CollectionSettings,
  Filter,
  FilterCondition,
  Payload,
  PayloadValue,
  ScoredPoint,
  ScrollPage,
  ScrollRequest,
  VectorPoint,
  VectorQuery,
  VectorStore,
} from './contracts/vector-store.ts';

// The briefing agent's protocol (tools, prompt, source formatting)
export {
  BRIEFING_SYSTEM_PROMPT,
  SEARCH_TOOL_NAME,
  SUBMIT_TOOL_NAME,
  SearchInputSchema,
  searchToolDefinition,
  submitToolDefinition,
  type SearchInput,
} from './agent/briefing-protocol.ts';
export { formatPatientRecord, formatSources, parsePatientRecord, parseSources, type RetrievedSource } from './agent/source-xml.ts';

// The agent loop and the pipelines
export type { BriefingEvent, BriefingUsage } from './agent/briefing-events.ts';
export { GuidelineSearch, type GuidelineSearchOptions } from './agent/guideline-search.ts';
export { callUpstream, runWithPolicy, type CallPolicy } from './executor/call-policy.ts';
export { MicroBatcher, type MicroBatcherOptions } from './executor/micro-batcher.ts';
export {
  createBriefingPipeline,
  type BriefOptions,
  type BriefingPipeline,
  type BriefingPipelineOptions,
  type BriefingPolicies,
  type BriefingResult,
} from './pipelines/briefing-pipeline.ts';
export { DEFAULT_POOLS, type DefaultPoolName } from './pipelines/default-pools.ts';
export { chunkDocument, type ChunkingOptions, type DocumentChunk } from './pipelines/ingest/chunker.ts';
export {
  createIngestPipeline,
  type IngestOptions,
  type IngestPipeline,
  type IngestPipelineOptions,
} from './pipelines/ingest/ingest-pipeline.ts';
export type { IngestProgress, IngestProgressListener } from './pipelines/ingest/ingest-progress.ts';
export type { DocumentReport, DocumentStatus, IngestReport, IngestTotals } from './pipelines/ingest/ingest-report.ts';
export type { IngestSource, InlineDocument } from './pipelines/ingest/ingest-sources.ts';
export { pointId, type PointIdentity } from './pipelines/ingest/point-id.ts';
export type { DocumentFormat, SourceDocument } from './pipelines/ingest/source-document.ts';
