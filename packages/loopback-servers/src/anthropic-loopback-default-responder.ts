import type { AnthropicLoopbackReply, AnthropicLoopbackRequestBody, AnthropicWireTool } from './anthropic-loopback-types.ts';

/**
 * The loopback server's default answer: when `tool_choice` forces a tool (`tool`, or `any`: the
 * first tool), a call of it with an input built from its schema's required properties; otherwise
 * text echoing the last user message (or acknowledging its tool results).
 */
export function defaultAnthropicReply(request: AnthropicLoopbackRequestBody): AnthropicLoopbackReply {
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  const forced = choice?.type === 'tool' ? tools.find((tool) => tool.name === choice.name) : choice?.type === 'any' ? tools[0] : undefined;
  if (forced !== undefined) return { content: [{ type: 'tool_use', name: forced.name, input: sampleInput(forced) }] };
  return { content: [{ type: 'text', text: echoText(request) }] };
}

function echoText(request: AnthropicLoopbackRequestBody): string {
  const last = request.messages.at(-1);
  if (last === undefined || last.role !== 'user') return 'Loopback reply.';
  if (typeof last.content === 'string') return `Loopback reply to: ${last.content}`;
  const results = last.content.filter((block) => block.type === 'tool_result').length;
  const text = last.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(' ');
  if (text !== '') return `Loopback reply to: ${text}`;
  return `Received ${results} tool result${results === 1 ? '' : 's'}.`;
}

/** A value for each required property, by its JSON Schema type. */
function sampleInput(tool: AnthropicWireTool): Record<string, unknown> {
  const schema = tool.input_schema;
  const properties = (typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {}) as Record<string, unknown>;
  const required = Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : [];
  return Object.fromEntries(required.map((name) => [name, sampleValue(properties[name])]));
}

function sampleValue(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return 'loopback';
  const property = schema as Record<string, unknown>;
  if (Array.isArray(property.enum) && property.enum.length > 0) return property.enum[0];
  switch (property.type) {
    case 'integer':
    case 'number':
      return typeof property.minimum === 'number' ? property.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'loopback';
  }
}
