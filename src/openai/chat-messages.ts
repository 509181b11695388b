// OpenAI chat messages as engine messages. Content may be a string or text parts (joined with
// newlines, as vLLM does); `developer` is a system message; an assistant's tool calls are
// paired with the `tool` messages that answer them, which must follow before anything else.
import type { AnsweredToolCall, ChatMessage } from '../engine/engine.js';
import type { OpenAIChatMessage } from './chat-schemas.js';
import { badRequest } from '../inference/request-error.js';
import { toolHistoryUnsupported } from '../inference/tools.js';

export interface MessageOptions {
  /** The loaded model can call functions (otherwise tool calls in the history are refused). */
  tools: boolean;
  /** For the error message when it cannot. */
  chatTemplate: string;
}

export function engineMessages(messages: readonly OpenAIChatMessage[], options: MessageOptions): ChatMessage[] {
  if (messages.length === 0) throw badRequest('messages must not be empty', 'messages');
  const out: ChatMessage[] = [];
  /** The assistant turn whose calls are being answered, and the answers so far (by call id). */
  let pending: { message: ChatMessage; calls: Map<string, { name: string; arguments: string }>; answers: Map<string, string> } | null = null;

  const settle = (index: number) => {
    if (!pending) return;
    const missing = [...pending.calls.keys()].find((id) => !pending!.answers.has(id));
    if (missing !== undefined) {
      throw badRequest(`the assistant's tool call \`${missing}\` has no tool message answering it before messages.${index}`, `messages.${index}`);
    }
    const answered: AnsweredToolCall[] = [...pending.calls].map(([id, call]) => ({ ...call, result: pending!.answers.get(id)! }));
    pending.message.toolCalls = answered;
    pending = null;
  };

  messages.forEach((message, i) => {
    const param = `messages.${i}`;
    if (message.role === 'tool') {
      const id = message.tool_call_id;
      if (!pending || id === undefined || !pending.calls.has(id) || pending.answers.has(id)) {
        throw badRequest('a tool message must answer a tool call of the assistant message before it (tool_call_id)', `${param}.tool_call_id`);
      }
      pending.answers.set(id, textOf(message, param, true));
      return;
    }
    settle(i);
    const calls = message.role === 'assistant' ? (message.tool_calls ?? []) : [];
    if (message.role !== 'assistant' && message.tool_calls) throw badRequest('only assistant messages carry tool_calls', `${param}.tool_calls`);
    const content = textOf(message, param, message.role === 'assistant');
    const role = message.role === 'developer' ? 'system' : message.role;
    const engineMessage: ChatMessage = { role, content };
    out.push(engineMessage);
    if (calls.length === 0) return;
    if (!options.tools) throw toolHistoryUnsupported(options.chatTemplate, `${param}.tool_calls`);
    const byId = new Map<string, { name: string; arguments: string }>();
    calls.forEach((call, j) => {
      if (byId.has(call.id)) throw badRequest(`duplicate tool call id \`${call.id}\``, `${param}.tool_calls.${j}.id`);
      if (!isJsonObjectText(call.function.arguments)) {
        throw badRequest('tool call arguments must be a JSON object', `${param}.tool_calls.${j}.function.arguments`);
      }
      byId.set(call.id, { name: call.function.name, arguments: call.function.arguments });
    });
    pending = { message: engineMessage, calls: byId, answers: new Map() };
  });
  settle(messages.length);
  return out;
}

/** The message's text. `optional`: absent or null content reads as empty (assistant, tool). */
function textOf(message: OpenAIChatMessage, param: string, optional: boolean): string {
  const content = message.content;
  if (content === undefined || content === null) {
    if (optional) return '';
    throw badRequest(`a ${message.role} message needs content`, `${param}.content`);
  }
  if (typeof content === 'string') return content;
  return content
    .map((part, j) => {
      if (part.type !== 'text') {
        throw badRequest(`content parts of type \`${part.type}\` are not supported: the loaded model reads text only`, `${param}.content.${j}.type`);
      }
      if (typeof part.text !== 'string') throw badRequest('a text content part needs `text`', `${param}.content.${j}.text`);
      return part.text;
    })
    .join('\n');
}

function isJsonObjectText(text: string): boolean {
  if (text.trim() === '') return true;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}
