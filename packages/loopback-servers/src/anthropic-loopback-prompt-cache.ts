import { createHash } from 'node:crypto';
import type { AnthropicLoopbackRequestBody, AnthropicWireMessage } from './anthropic-loopback-types.ts';

/** Rough token count, about 4 characters a token (never 0 for non-empty text). */
export function estimateWireTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** How the simulated prompt cache served one request. */
export interface PromptCacheUsage {
  /** Prompt tokens not served from or written to the cache. */
  readonly inputTokens: number;
  readonly cacheReadInputTokens: number;
  readonly cacheCreationInputTokens: number;
}

/**
 * A simulation of Messages API prompt caching: the prompt is read in the API's order (tools,
 * system, messages), every block carrying `cache_control` marks a breakpoint, the longest
 * breakpoint prefix seen before is read from the cache, and the prefix up to the last breakpoint
 * is written when it is new. Enough to check that an adapter places breakpoints where a second
 * request can hit them and reports the cache counters.
 */
export class AnthropicLoopbackPromptCache {
  readonly #prefixes = new Set<string>();

  /** Serves one request, remembering its breakpoint prefixes. */
  serve(body: AnthropicLoopbackRequestBody): PromptCacheUsage {
    const segments = promptSegments(body);
    const total = segments.reduce((sum, segment) => sum + segment.tokens, 0);
    const hash = createHash('sha256');
    let tokens = 0;
    const breakpoints: { key: string; tokens: number }[] = [];
    for (const segment of segments) {
      hash.update(segment.text);
      tokens += segment.tokens;
      if (segment.breakpoint) {
        // A digest of the prefix so far; the hash object carries on for longer prefixes.
        breakpoints.push({ key: hash.copy().digest('hex'), tokens });
      }
    }
    let read = 0;
    for (const breakpoint of breakpoints) if (this.#prefixes.has(breakpoint.key)) read = breakpoint.tokens;
    const last = breakpoints.at(-1);
    const created = last !== undefined && last.tokens > read ? last.tokens - read : 0;
    for (const breakpoint of breakpoints) this.#prefixes.add(breakpoint.key);
    return { inputTokens: Math.max(total - read - created, 0), cacheReadInputTokens: read, cacheCreationInputTokens: created };
  }

  clear(): void {
    this.#prefixes.clear();
  }
}

interface PromptSegment {
  readonly text: string;
  readonly tokens: number;
  readonly breakpoint: boolean;
}

function segment(value: unknown, breakpoint: boolean): PromptSegment {
  const text = JSON.stringify(value);
  return { text, tokens: estimateWireTokens(text), breakpoint };
}

function hasBreakpoint(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'cache_control' in value && value.cache_control != null;
}

function promptSegments(body: AnthropicLoopbackRequestBody): PromptSegment[] {
  const segments: PromptSegment[] = [];
  for (const tool of body.tools ?? []) segments.push(segment({ ...tool, cache_control: undefined }, hasBreakpoint(tool)));
  if (typeof body.system === 'string') segments.push(segment(body.system, false));
  else for (const block of body.system ?? []) segments.push(segment({ ...block, cache_control: undefined }, hasBreakpoint(block)));
  for (const message of body.messages) segments.push(...messageSegments(message));
  return segments;
}

function messageSegments(message: AnthropicWireMessage): PromptSegment[] {
  if (typeof message.content === 'string') return [segment({ role: message.role, text: message.content }, false)];
  return message.content.map((block) => segment({ role: message.role, ...block, cache_control: undefined }, hasBreakpoint(block)));
}
