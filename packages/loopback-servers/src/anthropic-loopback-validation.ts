import type { AnthropicLoopbackRequestBody } from './anthropic-loopback-types.ts';

/**
 * Checks a `POST /v1/messages` body the way the Messages API does, for the rules an adapter can
 * get wrong: required fields, alternating roles, block shapes, every `tool_use` answered by a
 * `tool_result` (first in the next user message), tool names that exist, a valid `tool_choice`,
 * at most four cache breakpoints, no unknown top-level fields. Messages name the path of the
 * offending field, never its content (the content may be patient data).
 */
export type AnthropicLoopbackValidation =
  | { readonly valid: true; readonly body: AnthropicLoopbackRequestBody }
  | { readonly valid: false; readonly message: string };

const KNOWN_FIELDS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'metadata',
  'thinking',
  'output_config',
  'service_tier',
]);

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const MAX_CACHE_BREAKPOINTS = 4;

class ValidationFailure extends Error {}

function fail(message: string): never {
  throw new ValidationFailure(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateMessagesRequest(body: unknown): AnthropicLoopbackValidation {
  try {
    return { valid: true, body: check(body) };
  } catch (error) {
    if (error instanceof ValidationFailure) return { valid: false, message: error.message };
    throw error;
  }
}

function check(body: unknown): AnthropicLoopbackRequestBody {
  if (!isRecord(body)) fail('The request body must be a JSON object');
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field)) fail(`${field}: Extra inputs are not permitted`);
  }
  if (typeof body.model !== 'string' || body.model === '') fail('model: Field required');
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    fail('max_tokens: must be a positive integer');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') fail('stream: must be a boolean');
  const breakpoints = { count: 0 };
  checkSystem(body.system, breakpoints);
  const toolNames = checkTools(body.tools, breakpoints);
  checkToolChoice(body.tool_choice, toolNames);
  checkMessages(body.messages, toolNames, breakpoints);
  if (breakpoints.count > MAX_CACHE_BREAKPOINTS) {
    fail(`A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints.count}.`);
  }
  return body as AnthropicLoopbackRequestBody;
}

function checkCacheControl(value: unknown, path: string, breakpoints: { count: number }): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value) || value.type !== 'ephemeral') fail(`${path}.cache_control.type: Input should be 'ephemeral'`);
  if (value.ttl !== undefined && value.ttl !== '5m' && value.ttl !== '1h') fail(`${path}.cache_control.ttl: Input should be '5m' or '1h'`);
  breakpoints.count++;
}

function checkTextBlock(block: Record<string, unknown>, path: string, breakpoints: { count: number }): void {
  if (typeof block.text !== 'string') fail(`${path}.text: Field required`);
  if (block.text.trim() === '') fail(`${path}: text content blocks must contain non-whitespace text`);
  checkCacheControl(block.cache_control, path, breakpoints);
}

function checkSystem(system: unknown, breakpoints: { count: number }): void {
  if (system === undefined || typeof system === 'string') return;
  if (!Array.isArray(system)) fail('system: Input should be a valid string or list of text blocks');
  system.forEach((block: unknown, index) => {
    const path = `system.${index}`;
    if (!isRecord(block) || block.type !== 'text') fail(`${path}.type: Input should be 'text'`);
    checkTextBlock(block, path, breakpoints);
  });
}

function checkTools(tools: unknown, breakpoints: { count: number }): Set<string> {
  const names = new Set<string>();
  if (tools === undefined) return names;
  if (!Array.isArray(tools)) fail('tools: Input should be a valid list');
  tools.forEach((tool: unknown, index) => {
    const path = `tools.${index}`;
    if (!isRecord(tool)) fail(`${path}: Input should be an object`);
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) fail(`${path}.name: String should match pattern '${TOOL_NAME.source}'`);
    if (names.has(tool.name)) fail(`tools: Tool names must be unique.`);
    names.add(tool.name);
    if (tool.description !== undefined && typeof tool.description !== 'string') fail(`${path}.description: Input should be a valid string`);
    if (!isRecord(tool.input_schema) || tool.input_schema.type !== 'object') fail(`${path}.input_schema.type: Input should be 'object'`);
    checkCacheControl(tool.cache_control, path, breakpoints);
  });
  return names;
}

function checkToolChoice(choice: unknown, toolNames: ReadonlySet<string>): void {
  if (choice === undefined) return;
  if (!isRecord(choice)) fail('tool_choice: Input should be an object');
  switch (choice.type) {
    case 'auto':
    case 'none':
      break;
    case 'any':
      if (toolNames.size === 0) fail('tool_choice: tool_choice.type any requires tools');
      break;
    case 'tool':
      if (typeof choice.name !== 'string' || !toolNames.has(choice.name)) fail('tool_choice.name: Tool names a tool that is not in tools');
      break;
    default:
      fail("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  }
  if (choice.disable_parallel_tool_use !== undefined && typeof choice.disable_parallel_tool_use !== 'boolean') {
    fail('tool_choice.disable_parallel_tool_use: Input should be a valid boolean');
  }
}

function checkMessages(messages: unknown, toolNames: ReadonlySet<string>, breakpoints: { count: number }): void {
  if (!Array.isArray(messages) || messages.length === 0) fail('messages: at least one message is required');
  let pendingToolUses: Set<string> = new Set();
  messages.forEach((message: unknown, index) => {
    const path = `messages.${index}`;
    if (!isRecord(message)) fail(`${path}: Input should be an object`);
    const role = message.role;
    if (role !== 'user' && role !== 'assistant') fail(`${path}.role: Input should be 'user' or 'assistant'`);
    const expected = index % 2 === 0 ? 'user' : 'assistant';
    if (role !== expected) fail(`${path}.role: roles must alternate between "user" and "assistant", starting with "user"`);
    const blocks = contentBlocks(message.content, path);
    const toolUses = new Set<string>();
    const answered = new Set<string>();
    let seenNonResult = false;
    blocks.forEach((block, blockIndex) => {
      const blockPath = `${path}.content.${blockIndex}`;
      switch (block.type) {
        case 'text':
          checkTextBlock(block, blockPath, breakpoints);
          seenNonResult = true;
          break;
        case 'thinking':
        case 'redacted_thinking':
          if (role !== 'assistant') fail(`${blockPath}: thinking blocks may only appear in assistant messages`);
          break;
        case 'tool_use':
          if (role !== 'assistant') fail(`${blockPath}: tool_use blocks may only appear in assistant messages`);
          if (typeof block.id !== 'string' || block.id === '') fail(`${blockPath}.id: Field required`);
          if (typeof block.name !== 'string' || !toolNames.has(block.name)) fail(`${blockPath}.name: tool_use names a tool that is not in tools`);
          if (!isRecord(block.input)) fail(`${blockPath}.input: Input should be a valid dictionary`);
          if (toolUses.has(block.id)) fail(`${blockPath}.id: tool_use ids must be unique`);
          toolUses.add(block.id);
          checkCacheControl(block.cache_control, blockPath, breakpoints);
          break;
        case 'tool_result': {
          if (role !== 'user') fail(`${blockPath}: tool_result blocks may only appear in user messages`);
          if (seenNonResult) fail(`${blockPath}: tool_result blocks must come first in the user message, before any other content`);
          const id = block.tool_use_id;
          if (typeof id !== 'string' || !pendingToolUses.has(id)) {
            fail(`${blockPath}.tool_use_id: unexpected tool_use_id found in tool_result blocks; each tool_result block must have a corresponding tool_use block in the previous message`);
          }
          if (answered.has(id)) fail(`${blockPath}.tool_use_id: each tool_use may be answered by one tool_result only`);
          answered.add(id);
          checkToolResultContent(block.content, blockPath, breakpoints);
          if (block.is_error !== undefined && typeof block.is_error !== 'boolean') fail(`${blockPath}.is_error: Input should be a valid boolean`);
          checkCacheControl(block.cache_control, blockPath, breakpoints);
          break;
        }
        default:
          fail(`${blockPath}.type: unsupported content block type`);
      }
    });
    if (role === 'user' && pendingToolUses.size > answered.size) {
      fail(`${path}: tool_use ids were found without tool_result blocks immediately after; each tool_use block must have a corresponding tool_result block in the next message`);
    }
    if (role === 'assistant' && blocks.length === 0 && index !== messages.length - 1) {
      fail(`${path}: all messages must have non-empty content except for the optional final assistant message`);
    }
    pendingToolUses = role === 'assistant' ? toolUses : new Set();
  });
  if (pendingToolUses.size > 0) {
    fail(`messages.${messages.length - 1}: tool_use ids were found without tool_result blocks immediately after`);
  }
}

function contentBlocks(content: unknown, path: string): Record<string, unknown>[] {
  if (typeof content === 'string') {
    if (content === '') fail(`${path}.content: all messages must have non-empty content`);
    return [{ type: 'text', text: content }];
  }
  if (!Array.isArray(content)) fail(`${path}.content: Input should be a valid string or list of content blocks`);
  return content.map((block: unknown, index) => {
    if (!isRecord(block)) fail(`${path}.content.${index}: Input should be an object`);
    return block;
  });
}

function checkToolResultContent(content: unknown, path: string, breakpoints: { count: number }): void {
  if (content === undefined || typeof content === 'string') return;
  if (!Array.isArray(content)) fail(`${path}.content: Input should be a valid string or list of blocks`);
  content.forEach((block: unknown, index) => {
    const blockPath = `${path}.content.${index}`;
    if (!isRecord(block) || block.type !== 'text') fail(`${blockPath}.type: Input should be 'text'`);
    checkTextBlock(block, blockPath, breakpoints);
  });
}
