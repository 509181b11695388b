// Conversations as node-llama-cpp sees them: our messages as ChatHistoryItems (with function
// calls and their results where there are any), tools as ChatModelFunctions, and whether a
// chat wrapper has a function-calling format of its own.
import { ChatWrapper, type ChatHistoryItem, type ChatModelFunctionCall, type ChatModelFunctions, type GbnfJsonSchema } from 'node-llama-cpp';
import type { AnsweredToolCall, ChatMessage, ToolDefinition } from './engine.js';

/**
 * True when the wrapper renders and parses function calls in a format of its model family
 * (Llama 3.1, Qwen, Mistral, Functionary, Gemma 4, Harmony, a Jinja template with tools…).
 * Wrappers without one (ChatML, General, Alpaca, Gemma…) inherit ChatWrapper's generic
 * `||call: name(params)` convention, which is explained to the model in a system message but
 * was never part of its training: node-llama-cpp runs it, yet the model is not expected to use
 * it, so offering `tools` there would silently do nothing.
 */
export function hasNativeFunctionCalling(wrapper: ChatWrapper): boolean {
  return wrapper.settings.functions !== ChatWrapper.defaultSettings.functions;
}

/**
 * Messages as chat history ending with an open model turn. An assistant turn that called
 * functions continues (in the same model item) after their results, as node-llama-cpp expects;
 * a conversation that ends with results is continued rather than given a new turn.
 */
export function chatHistoryOf(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  let openCalls = false;
  for (const message of messages) {
    const last = history.at(-1);
    if (message.role === 'assistant') {
      const response = responseOf(message);
      if (openCalls && last?.type === 'model') last.response.push(...response);
      else history.push({ type: 'model', response });
      openCalls = (message.toolCalls?.length ?? 0) > 0;
      continue;
    }
    openCalls = false;
    if (message.role === 'system') history.push({ type: 'system', text: message.content });
    else history.push({ type: 'user', text: message.content });
  }
  if (!openCalls) history.push({ type: 'model', response: [] });
  return history;
}

function responseOf(message: ChatMessage): Array<string | ChatModelFunctionCall> {
  const calls = message.toolCalls ?? [];
  // Without calls, exactly what the native route has always rendered.
  const response: Array<string | ChatModelFunctionCall> = message.content === '' && calls.length > 0 ? [] : [message.content];
  calls.forEach((call, i) => response.push(functionCallOf(call, i === 0)));
  return response;
}

function functionCallOf(call: AnsweredToolCall, startsNewChunk: boolean): ChatModelFunctionCall {
  return { type: 'functionCall', name: call.name, params: parseOr(call.arguments, undefined), result: parseOr(call.result, call.result), startsNewChunk };
}

/** JSON text as a value (so the template shows `{"a":1}`, not a quoted string); else `fallback`. */
function parseOr<T>(text: string, fallback: T): unknown {
  if (text.trim() === '') return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

export function functionsOf(tools: readonly ToolDefinition[]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description === undefined ? {} : { description: tool.description }),
      // The OpenAI layer has already reduced the schema to the subset node-llama-cpp supports.
      ...(tool.parameters === undefined ? {} : { params: tool.parameters as GbnfJsonSchema }),
    };
  }
  return functions;
}
