// The node-llama-cpp implementation of Engine. One model, one context with `parallel`
// sequences; each generation borrows a sequence and gives it back.
import { randomInt } from 'node:crypto';
import { basename } from 'node:path';
import {
  LlamaCompletion,
  type ChatModelFunctions,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type LlamaText,
  type Token,
  type Tokenizer,
} from 'node-llama-cpp';
import { InferdError } from '../errors.js';
import type { LoadPhase } from '../status/events.js';
import { chatHistoryOf, functionsOf, hasNativeFunctionCalling } from './chat-history.js';
import { chooseChatWrapper } from './chat-wrapper-choice.js';
import type {
  Engine,
  EngineCapabilities,
  EngineInfo,
  EngineStopReason,
  EmbedResult,
  GenerateRequest,
  GenerateResult,
  OutputConstraint,
  Prompt,
} from './engine.js';
import { PartTokenCache, tokenizeInPieces, tokenizeLlamaText } from './chunked-tokenize.js';
import { DecodeRounds, type DecodeRoundStats } from './decode-rounds.js';
import { checkGgufFile } from './gguf-check.js';
import { anyJsonGrammar, jsonSchemaGrammar } from './json-grammar.js';
import { acceleratorOf, noteFailedLoad } from './llama-runtime.js';
import { generateWithTools } from './llama-tools-run.js';
import { SequencePool } from './sequence-pool.js';
import { StopSequences } from './stop-sequences.js';

export interface LlamaEngineOptions {
  llama: Llama;
  modelPath: string;
  nCtx: number;
  parallel: number;
  threads: number;
  /** Called before each loading step, for the lifecycle's `mmap` and `kv_cache` frames. */
  onPhase?: ((phase: LoadPhase) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Replaces the chat wrapper node-llama-cpp resolves from the model (tests use this). */
  chatWrapper?: ChatWrapper | undefined;
  /** Long prompts are evaluated in slices of this many tokens (see #prefill; tests vary it). */
  prefillTokens?: number | undefined;
  /** Where the chat-wrapper decision per model file is remembered (config `cache_dir`). */
  cacheDir?: string | undefined;
}

/** Slice size for evaluating long prompts: small enough that node-llama-cpp's copies stay short. */
const PREFILL_TOKENS = 8192;

export class LlamaEngine implements Engine {
  readonly info: EngineInfo;
  readonly capabilities: EngineCapabilities;
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #wrapper: ChatWrapper;
  readonly #sequences: SequencePool<LlamaContextSequence>;
  readonly #rounds: DecodeRounds;
  /** The model's tokenizer, answering a conversation's earlier turns from a cache. */
  readonly #chatTokenizer: Tokenizer;
  readonly #bos: Token | null;
  /** No token is longer than this many bytes of text (from the GGUF vocabulary). */
  readonly #maxTokenBytes: number;
  readonly #prefillTokens: number;
  /** Slices evaluated by #prefill, and prompt tokens the cache held after it (tests read these). */
  readonly #prefilled = { slices: 0, heldTokens: 0 };
  #embedding: Promise<LlamaEmbeddingContext> | null = null;
  #anyJson: Promise<LlamaGrammar> | null = null;
  #closed = false;

  private constructor(
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    info: EngineInfo,
    maxTokenBytes: number,
    wrapper: ChatWrapper,
    prefillTokens = PREFILL_TOKENS,
  ) {
    this.#maxTokenBytes = Math.max(1, maxTokenBytes);
    this.#prefillTokens = Math.max(1, prefillTokens);
    this.#llama = llama;
    this.#model = model;
    this.#context = context;
    this.#wrapper = wrapper;
    this.#sequences = new SequencePool(Array.from({ length: info.parallel }, () => context.getSequence()));
    this.#rounds = new DecodeRounds(context);
    this.#chatTokenizer = new PartTokenCache().wrap(model.tokenizer);
    this.#bos = beginningToken(model);
    this.info = { ...info, chatTemplate: this.#wrapper.wrapperName };
    this.capabilities = {
      backend: info.modelName,
      wire_version: 1,
      v2: false,
      vision: false,
      audio: false,
      tools: hasNativeFunctionCalling(this.#wrapper),
      thinking: false,
      embed: true,
      accelerator: acceleratorOf(llama),
      gpu_layers: model.gpuLayers,
      model: info.modelPath,
      n_ctx: info.nCtx,
    };
  }

  /** Validates the file, then loads it. A bad file is `model_invalid` and never reaches llama.cpp. */
  static async load(options: LlamaEngineOptions): Promise<LlamaEngine> {
    const { llama, modelPath, nCtx, parallel, threads, onPhase, signal, chatWrapper, cacheDir, prefillTokens } = options;
    const summary = await checkGgufFile(modelPath);
    const contextFailed = (err: unknown) =>
      new InferdError('model_load_failed', `could not create a ${nCtx}-token context for ${modelPath}: ${(err as Error).message}`, { cause: err });
    onPhase?.({ phase: 'mmap', path: modelPath });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath, loadSignal: signal });
    } catch (err) {
      noteFailedLoad(llama);
      throw new InferdError('model_load_failed', `llama.cpp could not load ${modelPath}: ${(err as Error).message}`, { cause: err });
    }
    let context: LlamaContext;
    try {
      onPhase?.({ phase: 'kv_cache', n_ctx: nCtx });
      context = await model.createContext({ contextSize: nCtx, sequences: parallel, threads, createSignal: signal });
    } catch (err) {
      // The failed context may hold a guard on the model that nothing releases (see
      // noteFailedLoad): model.dispose() is started, not waited for, and the runtime is marked.
      noteFailedLoad(llama);
      void model.dispose().catch(() => {});
      throw contextFailed(err);
    }
    try {
      const wrapper = chatWrapper ?? (await chooseChatWrapper(model, modelPath, cacheDir)).wrapper;
      return new LlamaEngine(llama, model, context, {
        modelPath,
        modelName: summary.name ?? basename(modelPath).replace(/\.gguf$/i, ''),
        sizeBytes: summary.sizeBytes,
        nCtx: context.contextSize,
        parallel,
        threads,
        trainContextSize: model.trainContextSize,
        embeddingSize: model.embeddingVectorSize,
        chatTemplate: '',
        gguf: {
          architecture: summary.architecture,
          parameterCount: summary.parameterCount,
          ...(summary.fileType === undefined ? {} : { fileType: summary.fileType }),
        },
      }, summary.maxTokenBytes, wrapper, prefillTokens);
    } catch (err) {
      await context.dispose();
      await model.dispose();
      throw contextFailed(err);
    }
  }

  countPromptTokens(prompt: Prompt): number {
    return this.#renderNow(prompt).tokens.length + (this.#bos === null ? 0 : 1);
  }

  async generate(unseeded: GenerateRequest): Promise<GenerateResult> {
    this.#assertOpen();
    // node-llama-cpp's default seed is the current second, so two requests within a second
    // would sample the very same reply. Without a seed of the client's, draw a fresh one.
    const request = { ...unseeded, seed: unseeded.seed ?? randomInt(0, 2 ** 32) };
    const functions = this.#functions(request);
    const { tokens, triggers } = await this.#render(request.prompt, functions);
    const promptTokens = tokens.length + (this.#bos === null ? 0 : 1);
    // What LlamaCompletion will put in the context: the slot whose cache holds most of it wins,
    // and that much is not evaluated again (its last token always is, to get the next one).
    const bos = this.#bos;
    const reusable = (sequence: LlamaContextSequence) => commonPrefix(sequence.contextTokens, bos, tokens, promptTokens - 1);
    if (promptTokens >= this.info.nCtx) {
      throw new InferdError(
        'invalid_request',
        `invalid request: the prompt is ${promptTokens} tokens but the context holds ${this.info.nCtx}`,
      );
    }
    if (request.maxTokens === 0) return { text: '', promptTokens, promptTokensCached: 0, completionTokens: 0, stopReason: 'length' };
    const grammar = request.constraint ? await this.#grammar(request.constraint) : undefined;
    if (request.signal?.aborted) return { text: '', promptTokens, promptTokensCached: 0, completionTokens: 0, stopReason: 'cancelled' };

    const sequence = await this.#sequences.take(request.signal, reusable);
    const promptTokensCached = reusable(sequence);
    if (functions && request.prompt.kind === 'chat') {
      try {
        const history = chatHistoryOf(request.prompt.messages);
        const maxTokens = Math.min(request.maxTokens, this.info.nCtx - promptTokens);
        return await generateWithTools({ sequence, wrapper: this.#wrapper, history, functions, request, promptTokens, maxTokens });
      } finally {
        this.#sequences.give(sequence);
      }
    }
    try {
      await this.#prefill(sequence, tokens, promptTokensCached, promptTokens - 1, request.signal);
    } catch (err) {
      this.#sequences.give(sequence);
      if (request.signal?.aborted) return { text: '', promptTokens, promptTokensCached, completionTokens: 0, stopReason: 'cancelled' };
      throw new InferdError('internal', `prompt evaluation failed: ${(err as Error).message}`, { cause: err });
    }
    const completion = new LlamaCompletion({ contextSequence: sequence });
    let completionTokens = 0;
    // Counted in the decode rounds from its first token: its prompt is evaluated by then.
    let inRounds = false;
    let raw = '';
    let emitted = '';
    const stops = new StopSequences(request.stop, request.signal, (text) => {
      emitted += text;
      request.onText?.(text);
    });
    const onText = (text: string) => {
      raw += text;
      stops.push(text);
    };
    try {
      const result = await completion.generateCompletionWithMeta(tokens, {
        maxTokens: request.maxTokens,
        temperature: request.temperature,
        topP: request.topP,
        topK: request.topK,
        seed: request.seed,
        grammar,
        customStopTriggers: triggers,
        // Generation stops at the end of the context instead of silently dropping the prompt's start.
        disableContextShift: true,
        signal: stops.signal,
        stopOnAbortSignal: true,
        onToken: (generated) => {
          completionTokens += generated.length;
          if (!inRounds) {
            inRounds = true;
            this.#rounds.enter();
          }
        },
        onTextChunk: onText,
      });
      // The stream regulator can hold back text that looked like the start of a stop trigger;
      // hand it out so the pieces always add up to the whole text.
      if (result.response.length > raw.length && result.response.startsWith(raw)) {
        onText(result.response.slice(raw.length));
      }
      stops.finish();
      const stopReason = stops.matched ? 'stop' : stopReasonOf(result.metadata.stopReason, request);
      return { text: emitted, promptTokens, promptTokensCached, completionTokens, stopReason };
    } catch (err) {
      if (request.signal?.aborted) return { text: emitted, promptTokens, promptTokensCached, completionTokens, stopReason: 'cancelled' };
      if (stops.matched) return { text: emitted, promptTokens, promptTokensCached, completionTokens, stopReason: 'stop' };
      throw new InferdError('internal', `generation failed: ${(err as Error).message}`, { cause: err });
    } finally {
      stops.dispose();
      if (inRounds) this.#rounds.leave();
      completion.dispose({ disposeSequence: false });
      this.#sequences.give(sequence);
    }
  }

  decodeRounds(): DecodeRoundStats {
    return this.#rounds.stats();
  }

  async embed(inputs: readonly string[], signal?: AbortSignal): Promise<EmbedResult> {
    this.#assertOpen();
    const contextSize = Math.min(this.info.nCtx, this.info.trainContextSize);
    // A failed creation is not cached: the next request tries again.
    this.#embedding ??= this.#model.createEmbeddingContext({ contextSize, threads: this.info.threads }).catch((err: unknown) => {
      this.#embedding = null;
      throw err;
    });
    const context = await this.#embedding;
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (const input of inputs) {
      if (signal?.aborted) throw signal.reason;
      this.#assertCanFit(input, contextSize, 'an input');
      const tokens = this.#model.tokenize(input);
      if (tokens.length > contextSize) {
        throw new InferdError('invalid_request', `invalid request: input is ${tokens.length} tokens; embeddings take at most ${contextSize}`);
      }
      promptTokens += tokens.length;
      const embedding = await context.getEmbeddingFor(tokens);
      vectors.push([...embedding.vector]);
    }
    return { vectors, promptTokens };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#sequences.close(new InferdError('backend_unavailable', 'the model was unloaded'));
    this.#rounds.close();
    if (this.#embedding) await (await this.#embedding.catch(() => null))?.dispose();
    await this.#context.dispose();
    await this.#model.dispose();
  }

  /**
   * Tokenizing is synchronous native work (~1 s per MB): text that cannot fit in `tokens` even
   * with the vocabulary's longest pieces is refused before it blocks the event loop.
   */
  #assertCanFit(text: string | readonly string[], tokens: number, what: string): void {
    const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
    if (bytes > tokens * this.#maxTokenBytes) {
      throw new InferdError('invalid_request', `invalid request: ${what} is ${bytes} bytes, more than a ${tokens}-token context can hold`);
    }
  }

  /**
   * Evaluates a long prompt into `sequence` in slices, all but its last token (LlamaCompletion
   * evaluates that one and finds the rest already in the cache). Handed a prompt whole,
   * node-llama-cpp copies what is left of it, and its array of logit flags, once per decode
   * batch (LlamaContext's batch loop: `tokens.slice(processAmount)`): at 500k tokens that is a
   * ~20 ms task on the event loop for every batch of the prompt.
   */
  async #prefill(sequence: LlamaContextSequence, tokens: readonly Token[], cached: number, upTo: number, signal?: AbortSignal): Promise<void> {
    const bos = this.#bos;
    const offset = bos === null ? 0 : 1;
    // `cached` is what the slot's cache already holds of the prompt (generate measured it).
    let start = cached;
    if (upTo - start < 2 * this.#prefillTokens) return;
    if (start < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start, end: sequence.nextTokenIndex }]);
    while (start < upTo) {
      if (signal?.aborted) throw signal.reason;
      const end = Math.min(upTo, start + this.#prefillTokens);
      // Positions count the BOS LlamaCompletion puts first; `tokens` does not hold it.
      const slice = start === 0 && bos !== null ? [bos, ...tokens.slice(0, end - offset)] : tokens.slice(start - offset, end - offset);
      await sequence.evaluateWithoutGeneratingNewTokens(slice);
      this.#prefilled.slices++;
      start = end;
    }
    this.#prefilled.heldTokens += commonPrefix(sequence.contextTokens, bos, tokens, upTo);
  }

  prefillStats(): { slices: number; heldTokens: number } {
    return { ...this.#prefilled };
  }

  #assertOpen(): void {
    if (this.#closed) throw new InferdError('backend_unavailable', 'the model is not loaded');
  }

  /**
   * The prompt's tokens (without the BOS LlamaCompletion adds itself) and the template's stop
   * triggers. Long text is tokenized in pieces so the event loop keeps turning.
   */
  async #render(prompt: Prompt, functions?: ChatModelFunctions): Promise<{ tokens: Token[]; triggers: LlamaText[] }> {
    this.#assertCanFit(prompt.kind === 'text' ? prompt.text : prompt.messages.map((m) => m.content), this.info.nCtx, 'the prompt');
    if (prompt.kind === 'text') return { tokens: await tokenizeInPieces(this.#model.tokenizer, prompt.text, 'trimLeadingSpace'), triggers: [] };
    const state = this.#contextState(prompt, functions);
    const tokens = await tokenizeLlamaText(state.contextText, this.#chatTokenizer, 'trimLeadingSpace', this.#bos);
    return { tokens, triggers: state.stopGenerationTriggers };
  }

  /** #render in one synchronous call (for short prompts and counting). */
  #renderNow(prompt: Prompt): { tokens: Token[]; triggers: LlamaText[] } {
    this.#assertCanFit(prompt.kind === 'text' ? prompt.text : prompt.messages.map((m) => m.content), this.info.nCtx, 'the prompt');
    if (prompt.kind === 'text') return { tokens: this.#model.tokenize(prompt.text, false, 'trimLeadingSpace'), triggers: [] };
    const state = this.#contextState(prompt);
    return { tokens: this.#stripBos(state.contextText.tokenize(this.#chatTokenizer, 'trimLeadingSpace')), triggers: state.stopGenerationTriggers };
  }

  #contextState(prompt: Prompt & { kind: 'chat' }, functions?: ChatModelFunctions) {
    return this.#wrapper.generateContextState({
      chatHistory: chatHistoryOf(prompt.messages),
      ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
    });
  }

  /** The request's tools as node-llama-cpp functions, after checking they can be honoured. */
  #functions(request: GenerateRequest): ChatModelFunctions | undefined {
    if (!request.tools || request.tools.length === 0) return undefined;
    if (!this.capabilities.tools) {
      throw new InferdError('invalid_request', `invalid request: the model's chat template (${this.info.chatTemplate}) has no function-calling format`);
    }
    if (request.constraint) throw new InferdError('invalid_request', 'invalid request: tools cannot be combined with a grammar or response format');
    if (request.prompt.kind !== 'chat') throw new InferdError('invalid_request', 'invalid request: tools need a chat prompt');
    return functionsOf(request.tools);
  }


  #stripBos(tokens: Token[]): Token[] {
    return this.#bos !== null && tokens[0] === this.#bos ? tokens.slice(1) : tokens;
  }

  async #grammar(constraint: OutputConstraint): Promise<LlamaGrammar> {
    try {
      if (constraint.kind === 'gbnf') return await this.#llama.createGrammar({ grammar: constraint.grammar });
      if (constraint.kind === 'json') {
        this.#anyJson ??= anyJsonGrammar(this.#llama).catch((err: unknown) => {
          this.#anyJson = null;
          throw err;
        });
        return await this.#anyJson;
      }
      return await jsonSchemaGrammar(this.#llama, constraint.schema);
    } catch (err) {
      throw new InferdError('invalid_request', `invalid request: grammar rejected: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Client stop sequences are matched by StopSequences; custom triggers here are the template's. */
function stopReasonOf(reason: string, request: GenerateRequest): EngineStopReason {
  if (reason === 'abort') return 'cancelled';
  if (reason === 'maxTokens') return 'length';
  if (request.signal?.aborted) return 'cancelled';
  return 'end';
}

/**
 * How many leading tokens `cached` shares with `bos` followed by `tokens`, at most `limit`.
 * The BOS is compared apart so a long prompt is not copied into a new array just for this.
 */
function commonPrefix(cached: readonly Token[], bos: Token | null, tokens: readonly Token[], limit: number): number {
  const offset = bos === null ? 0 : 1;
  const n = Math.min(cached.length, tokens.length + offset, Math.max(0, limit));
  if (n === 0 || (bos !== null && cached[0] !== bos)) return 0;
  let i = offset;
  while (i < n && cached[i] === tokens[i - offset]) i++;
  return i;
}

/** The token LlamaCompletion puts in front of every input (mirrors its own rule). */
function beginningToken(model: LlamaModel): Token | null {
  const type = model.vocabularyType;
  if (type === 'rwkv' || type === 'ugm') return null;
  if (type === 'wpm') return model.tokens.bos;
  return model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
}
