import { AidocError, throwIfAborted, type ChatModel, type GenerateRequest, type GenerateResult } from '@aidoc/core';
import { toAnthropicAidocError } from './anthropic-errors.ts';
import {
  NON_STREAMING_MAX_TOKENS,
  resolveAnthropicModelSettings,
  type AnthropicModelSettings,
  type ResolvedAnthropicModelSettings,
} from './anthropic-model-settings.ts';
import { toMessageCreateParams } from './anthropic-request.ts';
import { toGenerateResult } from './anthropic-response.ts';
import { collectMessageStream } from './anthropic-stream.ts';

/**
 * A `ChatModel` backed by Claude through the Anthropic Messages API (tool use, parallel tool
 * calls, prompt caching, streaming).
 *
 * The adapter translates and nothing more: one turn per `generate`, no retries (the SDK's are
 * turned off per request; core's call policy retries `RATE_LIMITED`, `UPSTREAM_UNAVAILABLE` and
 * `TIMEOUT`, honouring `retryAfterMs`), the caller's signal passed to the SDK so an abort cancels
 * the HTTP request. One client is built (or injected) and reused, so connections are kept alive.
 *
 * @example
 * ```ts
 * import { createAnthropicModel } from '@aidoc/llm-anthropic';
 *
 * const model = createAnthropicModel({ model: 'claude-sonnet-5-5' }); // key from ANTHROPIC_API_KEY
 * const result = await model.generate({
 *   system: 'You are terse.',
 *   messages: [{ role: 'user', content: [{ type: 'text', text: 'Say ready.' }] }],
 *   tools: [],
 * });
 * ```
 *
 * @throws TypeError when a setting has the wrong type; AidocError `INVALID_INPUT` when no API key
 * is given and ANTHROPIC_API_KEY is unset.
 */
export function createAnthropicModel(settings: AnthropicModelSettings = {}): ChatModel {
  const resolved = resolveAnthropicModelSettings(settings);
  return {
    specificationVersion: 'v1',
    provider: 'anthropic',
    modelId: resolved.model,
    supportsParallelToolCalls: true,
    generate: (request) => generate(resolved, request),
  };
}

async function generate(settings: ResolvedAnthropicModelSettings, request: GenerateRequest): Promise<GenerateResult> {
  const { signal } = request;
  throwIfAborted(signal);
  if (request.maxTokens !== undefined && (!Number.isInteger(request.maxTokens) || request.maxTokens < 1)) {
    throw new AidocError('INVALID_INPUT', `maxTokens must be a positive integer, got ${String(request.maxTokens)}`, { details: { maxTokens: request.maxTokens } });
  }
  const params = toMessageCreateParams(request, settings);
  const stream = settings.stream ?? (request.onTextDelta !== undefined || params.max_tokens > NON_STREAMING_MAX_TOKENS);
  const requestOptions = {
    maxRetries: 0,
    ...(signal === undefined ? {} : { signal }),
    ...(settings.timeoutMs === undefined ? {} : { timeout: settings.timeoutMs }),
  };
  const context = { signal, model: settings.model };
  try {
    if (!stream) {
      const message = await settings.client.messages.create({ ...params, stream: false }, requestOptions);
      return toGenerateResult(message);
    }
    const events = await settings.client.messages.create({ ...params, stream: true }, requestOptions);
    const collected = await collectMessageStream(events, request.onTextDelta);
    // The SDK ends iteration quietly on abort, so an aborted stream looks like a short one.
    throwIfAborted(signal);
    if (!collected.complete) {
      throw new AidocError('UPSTREAM_UNAVAILABLE', 'The Anthropic stream ended before message_stop', { details: { provider: 'anthropic' } });
    }
    return toGenerateResult(collected.turn);
  } catch (error) {
    throw toAnthropicAidocError(error, context);
  }
}
