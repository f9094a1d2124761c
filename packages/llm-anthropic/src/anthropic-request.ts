import type { ChatMessage, ContentBlock, GenerateRequest, ToolChoice, ToolDefinition } from '@aidoc/core';
import type {
  ContentBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  TextBlockParam,
  Tool,
  ToolChoice as AnthropicToolChoice,
} from '@anthropic-ai/sdk/resources/messages';

const EPHEMERAL = { type: 'ephemeral' } as const;

/** What the request translation needs from the settings. */
export interface AnthropicRequestOptions {
  readonly model: string;
  readonly maxTokens: number;
  readonly promptCaching: boolean;
}

/**
 * Translates one `generate` request into Messages API parameters (without `stream`). With prompt
 * caching, the last tool definition and the system prompt carry `cache_control`: the API reads
 * the prompt as tools, then system, then messages, so these two breakpoints cache the part that
 * is the same on every turn.
 */
export function toMessageCreateParams(request: GenerateRequest, options: AnthropicRequestOptions): MessageCreateParamsBase {
  const tools = request.tools.map((tool, index) => toTool(tool, options.promptCaching && index === request.tools.length - 1));
  // Without tools, `auto` and `none` say nothing; `any` and `{ name }` go through for the API to refuse.
  const choice = request.toolChoice;
  const toolChoice = choice === undefined || (tools.length === 0 && (choice === 'auto' || choice === 'none')) ? undefined : toToolChoice(choice);
  return {
    model: options.model,
    max_tokens: request.maxTokens ?? options.maxTokens,
    ...(request.system.trim() === '' ? {} : { system: [systemBlock(request.system, options.promptCaching)] }),
    messages: toMessages(request.messages),
    ...(tools.length === 0 ? {} : { tools }),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
  };
}

function systemBlock(text: string, cache: boolean): TextBlockParam {
  return cache ? { type: 'text', text, cache_control: EPHEMERAL } : { type: 'text', text };
}

function toTool(tool: ToolDefinition, cache: boolean): Tool {
  const definition: Tool = {
    name: tool.name,
    description: tool.description,
    // The contract says a JSON Schema object; the API checks it, not us.
    input_schema: tool.inputSchema as Tool.InputSchema,
  };
  return cache ? { ...definition, cache_control: EPHEMERAL } : definition;
}

/** Parallel tool use stays on (`disable_parallel_tool_use: false`): core runs a turn's calls concurrently. */
export function toToolChoice(choice: ToolChoice): AnthropicToolChoice {
  if (choice === 'auto') return { type: 'auto', disable_parallel_tool_use: false };
  if (choice === 'any') return { type: 'any', disable_parallel_tool_use: false };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.name, disable_parallel_tool_use: false };
}

/**
 * Messages in API form. Empty text blocks are dropped (the API rejects them), consecutive
 * messages of one role are merged (the API would merge them; merging here keeps the roles
 * alternating when a dropped block empties a message), and in a user message the tool results
 * come first, as the API requires.
 */
function toMessages(messages: readonly ChatMessage[]): MessageParam[] {
  const result: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = [];
  for (const message of messages) {
    const content = message.content.flatMap((block) => toContentBlock(block));
    if (content.length === 0) continue;
    const previous = result.at(-1);
    if (previous?.role === message.role) previous.content.push(...content);
    else result.push({ role: message.role, content });
  }
  for (const message of result) {
    if (message.role !== 'user') continue;
    const results = message.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0) message.content = [...results, ...message.content.filter((block) => block.type !== 'tool_result')];
  }
  return result;
}

function toContentBlock(block: ContentBlock): ContentBlockParam[] {
  switch (block.type) {
    case 'text':
      return block.text.trim() === '' ? [] : [{ type: 'text', text: block.text }];
    case 'tool_call':
      return [{ type: 'tool_use', id: block.id, name: block.name, input: block.input }];
    case 'tool_result':
      return [
        {
          type: 'tool_result',
          tool_use_id: block.toolCallId,
          content: block.content,
          ...(block.isError === true ? { is_error: true } : {}),
        },
      ];
  }
}
