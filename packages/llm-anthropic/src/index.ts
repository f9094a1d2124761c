/**
 * `@aidoc/llm-anthropic`: Claude for @aidoc, the `ChatModel` contract over the Anthropic
 * Messages API (tool use with parallel calls, prompt caching, streaming).
 *
 * @packageDocumentation
 */
export { createAnthropicModel } from './anthropic-model.ts';
export {
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  DEFAULT_ANTHROPIC_MODEL,
  type AnthropicModelSettings,
} from './anthropic-model-settings.ts';
