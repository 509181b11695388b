// Function tools of any API family as engine tools. inferd offers tools only where
// node-llama-cpp knows the model family's own function-calling format (engine capability
// `tools`); for the rest, including the demo model's ChatML template, a request with tools is a
// 400 that says why, on /v1 and /api alike.
import type { Engine, ToolDefinition } from '../engine/engine.js';
import { convertJsonSchema } from './json-schema.js';
import { badRequest } from './request-error.js';

/** One function as the request declares it (`parameters` is a JSON schema). */
export interface FunctionSpec {
  name: string;
  description?: string | undefined;
  parameters?: Record<string, unknown> | undefined;
}

/**
 * The tools to offer the engine. `param` is where the list sits in the request (`tools`);
 * `constrained` is true when the request also asks for a JSON output format.
 */
export function engineTools(functions: readonly FunctionSpec[], engine: Engine, constrained: { param: string } | null): ToolDefinition[] {
  if (!engine.capabilities.tools) {
    throw badRequest(`tools are not supported by the loaded model: its chat template (${engine.info.chatTemplate}) has no function-calling format`, 'tools');
  }
  if (constrained) throw badRequest(`${constrained.param} cannot be combined with tools`, constrained.param);
  const names = new Set<string>();
  return functions.map(({ name, description, parameters }, i) => {
    if (names.has(name)) throw badRequest(`duplicate tool name \`${name}\``, `tools.${i}.function.name`);
    names.add(name);
    return {
      name,
      description,
      // No parameters: a function without arguments, as OpenAI and Ollama read it.
      parameters: parameters === undefined ? undefined : convertJsonSchema(parameters, `tools.${i}.function.parameters`).grammar,
    };
  });
}

/** The error for tool calls in a conversation the loaded model cannot continue. */
export function toolHistoryUnsupported(chatTemplate: string, param: string): Error {
  return badRequest(`messages with tool calls need a model with function calling; the loaded model's chat template (${chatTemplate}) has none`, param);
}
