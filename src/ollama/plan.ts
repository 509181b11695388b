// An Ollama chat or generate request, checked and translated for the engine through the shared
// layer of src/inference (sampling, JSON output, tools, served model). Everything that can make
// a request a 400 happens here, before it takes a slot.
import type { Engine, Prompt } from '../engine/engine.js';
import { jsonOutput, type ResolvedFormat } from '../inference/output-format.js';
import { badRequest } from '../inference/request-error.js';
import type { GenerationSpec, RunPlan } from '../inference/run-generations.js';
import { engineSampling } from '../inference/sampling.js';
import { servedModel } from '../inference/served-model.js';
import { engineTools } from '../inference/tools.js';
import { engineMessages } from './chat-messages.js';
import type { OllamaChatRequest, OllamaGenerateRequest } from './chat-schemas.js';
import type { OllamaOptions } from './common-schemas.js';

export interface OllamaPlan extends RunPlan {
  stream: boolean;
  /** Nothing to generate (no prompt, no messages): Ollama answers done_reason `load`. */
  loadOnly: boolean;
}

export function planOllamaChat(body: OllamaChatRequest, engine: Engine, strictModel: boolean): OllamaPlan {
  servedModel(engine, body.model, strictModel);
  const messages = body.messages ?? [];
  const format = resolveFormat(body.format);
  const tools = (body.tools ?? []).length > 0 ? engineTools((body.tools ?? []).map((t) => t.function), engine, format.constraint ? { param: 'format' } : null) : undefined;
  if (messages.length === 0) return { generations: [], stream: body.stream !== false, loadOnly: true };
  const prompt: Prompt = { kind: 'chat', messages: engineMessages(messages, engine.capabilities.tools, engine.info.chatTemplate) };
  return plan(prompt, body.options, format, engine, body.stream, tools);
}

export function planOllamaGenerate(body: OllamaGenerateRequest, engine: Engine, strictModel: boolean): OllamaPlan {
  servedModel(engine, body.model, strictModel);
  if (body.suffix) throw badRequest('suffix is not supported (no fill-in-the-middle)', 'suffix');
  if ((body.images?.length ?? 0) > 0) throw badRequest('images are not supported: the loaded model reads text only', 'images');
  if ((body.context?.length ?? 0) > 0) throw badRequest('context is not supported: send the conversation to /api/chat', 'context');
  if (body.template) throw badRequest("template is not supported: the model's own chat template is used", 'template');
  const format = resolveFormat(body.format);
  if (!body.prompt) return { generations: [], stream: body.stream !== false, loadOnly: true };
  const prompt: Prompt =
    body.raw === true
      ? { kind: 'text', text: body.prompt }
      : { kind: 'chat', messages: [...(body.system ? [{ role: 'system' as const, content: body.system }] : []), { role: 'user', content: body.prompt }] };
  return plan(prompt, body.options, format, engine, body.stream, undefined);
}

function plan(
  prompt: Prompt,
  options: OllamaOptions | undefined,
  format: ResolvedFormat,
  engine: Engine,
  stream: boolean | undefined,
  tools: GenerationSpec['tools'],
): OllamaPlan {
  const nCtx = engine.info.nCtx;
  if (options?.num_ctx !== undefined && options.num_ctx > nCtx) {
    throw badRequest(`options.num_ctx ${options.num_ctx} is above the loaded context size (${nCtx}); the context is set by n_ctx when the model loads`, 'options.num_ctx');
  }
  const numPredict = options?.num_predict;
  const generation: GenerationSpec = {
    prompt,
    // -1 (Ollama's default) and -2: up to the end of the context.
    maxTokens: numPredict === undefined || numPredict < 0 ? nCtx : numPredict,
    ...engineSampling(options ?? {}),
    constraint: format.constraint,
    tools,
  };
  return { generations: [generation], check: format.check, stream: stream !== false, loadOnly: false };
}

function resolveFormat(format: OllamaChatRequest['format']): ResolvedFormat {
  if (format === undefined || format === '') return {};
  return jsonOutput(format === 'json' ? undefined : format, 'format');
}
