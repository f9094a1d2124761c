import type { Usage } from '../contracts/chat-model.ts';
import type { PatientBriefing } from '../contracts/patient-briefing.ts';
import type { AidocErrorCode } from '../errors/aidoc-error.ts';
import type { Trace } from '../tracing/span.ts';
import type { RetrievedSource } from './source-xml.ts';

/** Token and call counts of one briefing. */
export interface BriefingUsage extends Required<Usage> {
  readonly modelTurns: number;
  readonly toolCalls: number;
  readonly embeddingCalls: number;
  readonly vectorStoreCalls: number;
}

/** What `stream()` yields, in order: one `patient_loaded`, turns with their tool calls, then `briefing` and `done` (or `error`). */
export type BriefingEvent =
  | { readonly type: 'patient_loaded'; readonly patientId: string }
  | { readonly type: 'turn_started'; readonly turn: number }
  | { readonly type: 'text'; readonly turn: number; readonly text: string }
  | { readonly type: 'tool_call'; readonly turn: number; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: 'tool_result';
      readonly turn: number;
      readonly id: string;
      readonly name: string;
      readonly isError: boolean;
      /** Ids of the sources the call returned (search calls). */
      readonly sourceIds: readonly string[];
    }
  | { readonly type: 'briefing'; readonly briefing: PatientBriefing; readonly sources: readonly RetrievedSource[] }
  | { readonly type: 'done'; readonly usage: BriefingUsage; readonly durationMs: number; readonly trace: Trace }
  | { readonly type: 'error'; readonly code: AidocErrorCode; readonly message: string; readonly retryable: boolean };
