// tools / tool_choice, on top of the shared engineTools (src/inference/tools.ts). Where tools are
// offered, the model may call them (`auto`); `required` and a named function cannot be enforced through
// node-llama-cpp's LlamaChat, so they are refused rather than silently treated as `auto`.
import type { Engine, ToolCall, ToolDefinition } from '../engine/engine.js';
import { badRequest } from '../inference/request-error.js';
import { engineTools } from '../inference/tools.js';
import type { ChatCompletionRequest, OpenAIToolCall } from './chat-schemas.js';
import { openAiId } from './ids.js';

/** The tools to offer the engine, or undefined for none. */
export function resolveTools(body: ChatCompletionRequest, engine: Engine): ToolDefinition[] | undefined {
  const choice = body.tool_choice;
  if (typeof choice === 'object' && choice !== null) {
    throw badRequest('tool_choice naming a function cannot be enforced by this engine; use "auto"', 'tool_choice');
  }
  if (choice === 'required') throw badRequest('tool_choice "required" cannot be enforced by this engine; use "auto"', 'tool_choice');
  const tools = body.tools ?? [];
  if (tools.length === 0 || choice === 'none') return undefined;
  const format = body.response_format?.type;
  const constrained = format === 'json_object' || format === 'json_schema' ? { param: 'response_format' } : null;
  return engineTools(
    tools.map((tool) => tool.function),
    engine,
    constrained,
  );
}

/** The engine's calls as OpenAI tool calls, each with a fresh id. */
export function openAiToolCalls(calls: readonly ToolCall[] | undefined): OpenAIToolCall[] {
  return (calls ?? []).map((call) => ({ id: openAiId('call_'), type: 'function', function: { name: call.name, arguments: call.arguments } }));
}
