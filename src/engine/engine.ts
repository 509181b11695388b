// The Engine interface: what transports and the lifecycle may ask of a loaded model. Only the
// implementation in llama-engine.ts talks to node-llama-cpp.
import type { CapabilitiesEvent } from '../status/events.js';
import type { DecodeRoundStats } from './decode-rounds.js';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Assistant turns only: the functions called in this turn, each with the answer it got. */
  toolCalls?: readonly AnsweredToolCall[] | undefined;
}

/** A function the model may call. `parameters` is a JSON schema in node-llama-cpp's grammar subset. */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  parameters?: Record<string, unknown> | undefined;
}

/** A call the model made; `arguments` is JSON text, as OpenAI carries it. */
export interface ToolCall {
  name: string;
  arguments: string;
}

export interface AnsweredToolCall extends ToolCall {
  /** What the tool returned (text; JSON text is passed to the template as a value). */
  result: string;
}

/** A conversation (rendered with the model's own chat template) or raw text. */
export type Prompt = { kind: 'chat'; messages: readonly ChatMessage[] } | { kind: 'text'; text: string };

/** Constrains what the model may emit. */
export type OutputConstraint =
  | { kind: 'gbnf'; grammar: string }
  | { kind: 'json_schema'; schema: Record<string, unknown> }
  | { kind: 'json' };

export interface GenerateRequest {
  prompt: Prompt;
  /** 0 generates nothing and ends with `length`. */
  maxTokens: number;
  temperature: number;
  topP: number;
  /** 0 disables top-k. */
  topK: number;
  /** Same seed, same options, same prompt: same text. */
  seed?: number | undefined;
  constraint?: OutputConstraint | undefined;
  /** Stop sequences: generation ends before any of them would appear in the text. */
  stop?: readonly string[] | undefined;
  /** Generation stops within one token of an abort. */
  signal?: AbortSignal | undefined;
  /** Called with each piece of text as it is generated. */
  onText?: ((text: string) => void) | undefined;
  /**
   * Functions the model may call, through node-llama-cpp's function calling. Needs
   * `capabilities.tools`; cannot be combined with `constraint`.
   */
  tools?: readonly ToolDefinition[] | undefined;
}

/**
 * `end`: the model ended its turn; `stop`: a stop sequence matched; `length`: max tokens or the
 * context ran out; `cancelled`: the signal aborted.
 */
export type EngineStopReason = 'end' | 'stop' | 'length' | 'cancelled';

export interface GenerateResult {
  text: string;
  promptTokens: number;
  /** Leading prompt tokens whose KV cache the slot kept from its previous request. */
  promptTokensCached: number;
  completionTokens: number;
  stopReason: EngineStopReason;
  /** Calls the model made (only with `tools`); generation ends after them, with stopReason `end`. */
  toolCalls?: ToolCall[] | undefined;
}

export interface EmbedResult {
  vectors: number[][];
  promptTokens: number;
}

export interface EngineInfo {
  /** Absolute path of the GGUF file. */
  modelPath: string;
  /** `general.name` of the model, else the file name. */
  modelName: string;
  sizeBytes: number;
  nCtx: number;
  parallel: number;
  threads: number;
  trainContextSize: number;
  embeddingSize: number;
  /** Name of the chat template in use (e.g. ChatML). */
  chatTemplate: string;
  /** What the GGUF header says about the model (absent for engines that do not load a file). */
  gguf?: GgufFacts;
}

/** The GGUF metadata the APIs report (Ollama's model `details`). */
export interface GgufFacts {
  /** `general.architecture`, e.g. llama or qwen2. */
  architecture: string;
  /** Elements in all tensors. */
  parameterCount: number;
  /** `general.file_type` (llama_ftype), when the file records it. */
  fileType?: number;
}

export type EngineCapabilities = Omit<CapabilitiesEvent, 'status'>;

export interface Engine {
  readonly info: EngineInfo;
  readonly capabilities: EngineCapabilities;
  /** Tokens the prompt takes once rendered (what usage.prompt_tokens will report). */
  countPromptTokens(prompt: Prompt): number;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  embed(inputs: readonly string[], signal?: AbortSignal): Promise<EmbedResult>;
  /** How parallel generations shared decodes (engines that batch across streams). */
  decodeRounds?(): DecodeRoundStats;
  /** Frees the model and its contexts. Requests still running fail. */
  close(): Promise<void>;
}
