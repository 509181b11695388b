// Ollama chat messages as engine messages. Ollama's tool calls carry no ids: an assistant
// message's calls are answered by the `tool` messages that follow it, in order.
import type { ChatMessage } from '../engine/engine.js';
import { badRequest } from '../inference/request-error.js';
import { toolHistoryUnsupported } from '../inference/tools.js';
import type { OllamaMessage } from './chat-schemas.js';

export function engineMessages(messages: readonly OllamaMessage[], tools: boolean, chatTemplate: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  /** The assistant turn whose calls are being answered, and how many answers it still needs. */
  let pending: { message: ChatMessage; calls: { name: string; arguments: string }[]; results: string[] } | null = null;
  const settle = (index: number) => {
    if (!pending) return;
    if (pending.results.length < pending.calls.length) {
      throw badRequest(`the assistant's tool calls need one tool message each before messages.${index}`, `messages.${index}`);
    }
    pending.message.toolCalls = pending.calls.map((call, i) => ({ ...call, result: pending!.results[i]! }));
    pending = null;
  };
  messages.forEach((message, i) => {
    const param = `messages.${i}`;
    if ((message.images?.length ?? 0) > 0) throw badRequest('images are not supported: the loaded model reads text only', `${param}.images`);
    if (message.role === 'tool') {
      if (!pending || pending.results.length >= pending.calls.length) {
        throw badRequest('a tool message must answer a tool call of the assistant message before it', `${param}.role`);
      }
      pending.results.push(message.content ?? '');
      return;
    }
    settle(i);
    const calls = message.tool_calls ?? [];
    if (message.role !== 'assistant' && calls.length > 0) throw badRequest('only assistant messages carry tool_calls', `${param}.tool_calls`);
    if (message.role !== 'assistant' && message.content === undefined) throw badRequest(`a ${message.role} message needs content`, `${param}.content`);
    const engineMessage: ChatMessage = { role: message.role, content: message.content ?? '' };
    out.push(engineMessage);
    if (calls.length === 0) return;
    if (!tools) throw toolHistoryUnsupported(chatTemplate, `${param}.tool_calls`);
    pending = { message: engineMessage, calls: calls.map((c) => ({ name: c.function.name, arguments: JSON.stringify(c.function.arguments) })), results: [] };
  });
  settle(messages.length);
  return out;
}
