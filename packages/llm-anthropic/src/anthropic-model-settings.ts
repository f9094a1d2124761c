import Anthropic from '@anthropic-ai/sdk';
import { AidocError } from '@aidoc/core';

/**
 * The Claude model used when `model` is not set: the current Sonnet of `@anthropic-ai/sdk`
 * 1.13 (whose list marks `claude-sonnet-4-5` deprecated, end of life November 2026).
 */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';

/** Output budget of a turn when neither the request nor the settings give one. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/**
 * Above this `max_tokens` the SDK refuses a non-streaming call ("Streaming is required for
 * operations that may take longer than 10 minutes"), so the adapter streams instead.
 */
export const NON_STREAMING_MAX_TOKENS = 21_333;

const MAX_TIMEOUT_MS = 2_147_483_647;

/** Settings of {@link createAnthropicModel}. */
export interface AnthropicModelSettings {
  /**
   * The Anthropic API key. Ignored when `client` is given.
   * @default process.env.ANTHROPIC_API_KEY
   */
  readonly apiKey?: string;
  /**
   * The Claude model id (any id the Messages API accepts).
   * @default 'claude-sonnet-5-5'
   */
  readonly model?: string;
  /**
   * The API's base URL (a proxy, a gateway, a loopback test server). Ignored when `client` is
   * given.
   * @default process.env.ANTHROPIC_BASE_URL, else https://api.anthropic.com
   */
  readonly baseURL?: string;
  /**
   * A client the application built (its own fetch, proxy, headers, logging). The adapter still
   * turns its retries off per request: retries live in core's call policy.
   */
  readonly client?: Anthropic;
  /**
   * The SDK's own deadline for a response to start arriving (it does not bound a stream once it
   * flows). The deadline of a whole call is core's policy `timeoutMs`.
   * @default the SDK's (10 minutes)
   */
  readonly timeoutMs?: number;
  /**
   * Output budget of a turn when the request gives none (`GenerateRequest.maxTokens` wins).
   * @default 4096
   */
  readonly maxTokens?: number;
  /**
   * Marks the tool definitions and the system prompt as prompt-cache breakpoints
   * (`cache_control: { type: 'ephemeral' }`), so later turns read them from the cache.
   * @default true
   */
  readonly promptCaching?: boolean;
  /**
   * Stream responses (SSE). By default a call streams when the request has `onTextDelta`, or
   * when its `maxTokens` is above what the SDK allows without streaming (21,333).
   */
  readonly stream?: boolean;
}

/** Settings after validation and defaults. */
export interface ResolvedAnthropicModelSettings {
  readonly client: Anthropic;
  readonly model: string;
  readonly timeoutMs: number | undefined;
  readonly maxTokens: number;
  readonly promptCaching: boolean;
  readonly stream: boolean | undefined;
}

/**
 * Validates the settings where they enter and builds the one client the model reuses. A wrong
 * type throws a `TypeError` naming the option; a missing API key throws an `AidocError`
 * `INVALID_INPUT` naming the option and the environment variable.
 */
export function resolveAnthropicModelSettings(settings: AnthropicModelSettings = {}): ResolvedAnthropicModelSettings {
  if (typeof settings !== 'object' || settings === null) throw invalidSetting('settings', 'an object', settings);
  const { apiKey, model = DEFAULT_ANTHROPIC_MODEL, baseURL, client, timeoutMs, maxTokens = DEFAULT_ANTHROPIC_MAX_TOKENS } = settings;
  if (typeof model !== 'string' || model.trim() === '') throw invalidSetting('model', 'a non-empty string', model);
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) throw invalidSetting('apiKey', 'a non-empty string', apiKey);
  if (baseURL !== undefined && (typeof baseURL !== 'string' || !URL.canParse(baseURL))) throw invalidSetting('baseURL', 'an absolute URL', baseURL);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw invalidSetting('timeoutMs', `a positive integer number of milliseconds up to ${MAX_TIMEOUT_MS}`, timeoutMs);
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalidSetting('maxTokens', 'a positive integer', maxTokens);
  if (settings.promptCaching !== undefined && typeof settings.promptCaching !== 'boolean') throw invalidSetting('promptCaching', 'a boolean', settings.promptCaching);
  if (settings.stream !== undefined && typeof settings.stream !== 'boolean') throw invalidSetting('stream', 'a boolean', settings.stream);

  let resolvedClient: Anthropic;
  if (client !== undefined) {
    if (typeof client !== 'object' || client === null || typeof (client as Partial<Anthropic>).messages?.create !== 'function') {
      throw invalidSetting('client', 'an Anthropic client (`new Anthropic(...)`)', client);
    }
    // The client carries its own key and URL: two sources of truth would be a trap.
    if (apiKey !== undefined) throw invalidSetting('apiKey', 'undefined when `client` is given (the client carries its key)', '[redacted]');
    if (baseURL !== undefined) throw invalidSetting('baseURL', 'undefined when `client` is given (the client carries its URL)', baseURL);
    resolvedClient = client;
  } else {
    const key = apiKey ?? nonEmpty(process.env.ANTHROPIC_API_KEY);
    if (key === undefined) {
      throw new AidocError(
        'INVALID_INPUT',
        'No Anthropic API key: pass `apiKey` to createAnthropicModel or set the ANTHROPIC_API_KEY environment variable',
        { details: { option: 'apiKey', environmentVariable: 'ANTHROPIC_API_KEY' } },
      );
    }
    resolvedClient = new Anthropic({
      apiKey: key,
      ...(baseURL === undefined ? {} : { baseURL }),
      ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      // Retries live in core's call policy (one place); the SDK's would multiply attempts.
      maxRetries: 0,
      // The SDK logs a stream chunk it cannot parse, i.e. model output about a patient; stay
      // quiet unless the operator asked for SDK logs with ANTHROPIC_LOG.
      ...(nonEmpty(process.env.ANTHROPIC_LOG) === undefined ? { logLevel: 'off' as const } : {}),
    });
  }
  return {
    client: resolvedClient,
    model,
    timeoutMs,
    maxTokens,
    promptCaching: settings.promptCaching ?? true,
    stream: settings.stream,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A p-queue style `TypeError`: "Expected `x` to be ..., got `y` (type)". */
function invalidSetting(name: string, expected: string, value: unknown): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'object' && value !== null ? Object.prototype.toString.call(value) : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${shown}\` (${typeof value})`);
}
