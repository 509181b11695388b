// tools / tool_choice. inferd offers tools only where node-llama-cpp knows the model family's own
// function-calling format (engine capability `tools`); for the rest, including the demo model's
// ChatML template, a request with tools is a 400 that says why. Where they are offered, the
// model may call them (`auto`); `required` and a named function cannot be enforced through
// node-llama-cpp's LlamaChat, so they are refused rather than silently treated as `auto`.
import type { Engine, ToolCall, ToolDefinition } from '../engine/engine.js';
import type { ChatCompletionRequest, OpenAIToolCall } from './chat-schemas.js';
import { openAiId } from './ids.js';
import { convertJsonSchema } from './json-schema.js';
import { badRequest } from './request-error.js';

/** The tools to offer the engine, or undefined for none. */
export function resolveTools(body: ChatCompletionRequest, engine: Engine): ToolDefinition[] | undefined {
  const choice = body.tool_choice;
  if (typeof choice === 'object' && choice !== null) {
    throw badRequest('tool_choice naming a function cannot be enforced by this engine; use "auto"', 'tool_choice');
  }
  if (choice === 'required') throw badRequest('tool_choice "required" cannot be enforced by this engine; use "auto"', 'tool_choice');
  const tools = body.tools ?? [];
  if (tools.length === 0 || choice === 'none') return undefined;
  if (!engine.capabilities.tools) {
    throw badRequest(
      `tools are not supported by the loaded model: its chat template (${engine.info.chatTemplate}) has no function-calling format`,
      'tools',
    );
  }
  const format = body.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') throw badRequest('response_format cannot be combined with tools', 'response_format');
  const names = new Set<string>();
  return tools.map((tool, i) => {
    const { name, description, parameters } = tool.function;
    if (names.has(name)) throw badRequest(`duplicate tool name \`${name}\``, `tools.${i}.function.name`);
    names.add(name);
    return {
      name,
      description,
      // No parameters: a function without arguments, as OpenAI reads it.
      parameters: parameters === undefined ? undefined : convertJsonSchema(parameters, `tools.${i}.function.parameters`).grammar,
    };
  });
}

/** The engine's calls as OpenAI tool calls, each with a fresh id. */
export function openAiToolCalls(calls: readonly ToolCall[] | undefined): OpenAIToolCall[] {
  return (calls ?? []).map((call) => ({ id: openAiId('call_'), type: 'function', function: { name: call.name, arguments: call.arguments } }));
}
