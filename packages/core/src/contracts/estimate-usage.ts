import type { ContentBlock, GenerateRequest, ToolDefinition } from './chat-model.ts';
import { memoiseText } from '../executor/text-memo.ts';
import { estimateTokens } from './estimate-tokens.ts';

/**
 * Usage estimates with `estimateTokens`, for models that cannot count tokens (the offline model,
 * the mock): over the whole conversation every turn. The agent loop
 * sends the same block objects back turn after turn (and this turn's output comes back as the
 * next turn's input), so each block is estimated once and remembered against what was estimated:
 * a reused object whose text changed, or whose tool input was replaced, is estimated afresh.
 */
const tokensByBlock = new WeakMap<ContentBlock, { readonly estimated: unknown; readonly name: string | undefined; readonly tokens: number }>();

/** Tokens of one content block: its text, its tool result, or the tool name and JSON input. */
export function estimateBlockTokens(block: ContentBlock): number {
  const estimated = block.type === 'text' ? block.text : block.type === 'tool_call' ? block.input : block.content;
  const name = block.type === 'tool_call' ? block.name : undefined;
  const known = tokensByBlock.get(block);
  if (known !== undefined && known.estimated === estimated && known.name === name) return known.tokens;
  const tokens = block.type === 'tool_call' ? estimateTokens(`${block.name} ${JSON.stringify(block.input)}`) : textTokens(estimated as string);
  tokensByBlock.set(block, { estimated, name, tokens });
  return tokens;
}

/** Texts shorter than this are counted again: cheaper than looking them up. */
const MEMO_MIN_LENGTH = 256;
/**
 * Long texts recur across requests as new strings (the same patient record, the same search
 * results): each distinct one is counted once.
 */
const longTextTokens = memoiseText(estimateTokens, 1024);

function textTokens(text: string): number {
  return text.length < MEMO_MIN_LENGTH ? estimateTokens(text) : longTextTokens(text);
}

/** Tokens of the whole request: system prompt, tool definitions and every message. */
export function estimateInputTokens(request: Pick<GenerateRequest, 'system' | 'messages' | 'tools'>): number {
  let messages = 0;
  for (const message of request.messages) for (const block of message.content) messages += estimateBlockTokens(block);
  return systemTokens(request.system) + toolTokens(request.tools) + messages;
}

// Every turn of every briefing sends the same system prompt and tool definitions: the last
// estimate of each is kept for as long as the next request sends the same again.
let lastSystem: { readonly system: string; readonly tokens: number } | undefined;
let lastTools: { readonly tools: readonly ToolDefinition[]; readonly tokens: number } | undefined;

function systemTokens(system: string): number {
  if (lastSystem?.system !== system) lastSystem = { system, tokens: estimateTokens(system) };
  return lastSystem.tokens;
}

function toolTokens(tools: readonly ToolDefinition[]): number {
  if (lastTools === undefined || !sameTools(lastTools.tools, tools)) lastTools = { tools: [...tools], tokens: estimateTokens(JSON.stringify(tools)) };
  return lastTools.tokens;
}

/** The same definition objects in the same order (definitions are immutable values, like blocks). */
function sameTools(left: readonly ToolDefinition[], right: readonly ToolDefinition[]): boolean {
  return left.length === right.length && left.every((tool, index) => tool === right[index]);
}
