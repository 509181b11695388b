// Generation with tools, through node-llama-cpp's LlamaChat: it documents the functions to the
// model in the chat wrapper's own format, notices when the model starts a call, constrains the
// function name and the arguments with grammars, and stops after the call(s) so the client can
// run them. Plain generation stays on LlamaCompletion (llama-engine.ts).
import { LlamaChat, LlamaJsonSchemaValidationError, type ChatHistoryItem, type ChatModelFunctions, type ChatWrapper, type LlamaContextSequence } from 'node-llama-cpp';
import { InferdError } from '../errors.js';
import type { EngineStopReason, GenerateRequest, GenerateResult, ToolCall } from './engine.js';
import { StopSequences } from './stop-sequences.js';

export interface ToolsRun {
  sequence: LlamaContextSequence;
  wrapper: ChatWrapper;
  history: ChatHistoryItem[];
  functions: ChatModelFunctions;
  request: GenerateRequest;
  promptTokens: number;
  /** The request's max tokens, capped to what is left of the context (LlamaChat would shift it). */
  maxTokens: number;
}

export async function generateWithTools(run: ToolsRun): Promise<GenerateResult> {
  const { sequence, request, promptTokens } = run;
  const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: run.wrapper });
  const outputBefore = sequence.tokenMeter.usedOutputTokens;
  let raw = '';
  let text = '';
  const stops = new StopSequences(request.stop, request.signal, (chunk) => {
    text += chunk;
    request.onText?.(chunk);
  });
  const completionTokens = () => sequence.tokenMeter.usedOutputTokens - outputBefore;
  try {
    const result = await chat.generateResponse(run.history, {
      functions: run.functions,
      documentFunctionParams: true,
      maxTokens: run.maxTokens,
      temperature: request.temperature,
      topP: request.topP,
      topK: request.topK,
      seed: request.seed,
      signal: stops.signal,
      stopOnAbortSignal: true,
      onTextChunk: (chunk) => {
        raw += chunk;
        stops.push(chunk);
      },
    });
    if (result.response.length > raw.length && result.response.startsWith(raw)) stops.push(result.response.slice(raw.length));
    stops.finish();
    const toolCalls: ToolCall[] = (result.functionCalls ?? []).map((call) => ({
      name: call.functionName,
      arguments: JSON.stringify(call.params ?? {}),
    }));
    const stopReason = stops.matched ? 'stop' : stopReasonOf(result.metadata.stopReason);
    return { text, promptTokens, promptTokensCached: 0, completionTokens: completionTokens(), stopReason, toolCalls: stops.matched ? [] : toolCalls };
  } catch (err) {
    if (request.signal?.aborted) return { text, promptTokens, promptTokensCached: 0, completionTokens: completionTokens(), stopReason: 'cancelled' };
    if (stops.matched) return { text, promptTokens, promptTokensCached: 0, completionTokens: completionTokens(), stopReason: 'stop' };
    // node-llama-cpp checks the arguments against the schema after generating them. Its grammar
    // lets an `integer` take an exponent (47321e-6), so this can fail; say so plainly.
    if (err instanceof LlamaJsonSchemaValidationError || (err as Error).constructor.name === 'LlamaFunctionCallValidationError') {
      throw new InferdError('internal', `the model produced a tool call that does not match its schema: ${(err as Error).message}`, { cause: err });
    }
    throw new InferdError('internal', `generation failed: ${(err as Error).message}`, { cause: err });
  } finally {
    stops.dispose();
    chat.dispose({ disposeSequence: false });
  }
}

function stopReasonOf(reason: string): EngineStopReason {
  if (reason === 'abort') return 'cancelled';
  if (reason === 'maxTokens') return 'length';
  return 'end';
}
