// The model objects of /api/tags, /api/ps and /api/show, from the store's listing and the loaded
// engine. Ollama names models `name:tag`; ours are store names, and the loaded model is named as
// /v1/models names it (its GGUF `general.name`), so a client that picks it from /api/tags sends
// back a name that strict_model accepts.
import { realpath, stat } from 'node:fs/promises';
import type { Engine } from '../engine/engine.js';
import { modelId } from '../inference/served-model.js';
import type { ModelEntry, ModelStore } from '../store/index.js';
import { blobDetails, detailsOf } from './gguf-details.js';
import type { OllamaModel, OllamaRunningModel, OllamaShowResponse } from './model-schemas.js';

/** ps lists the model as loaded "forever": it stays until the daemon stops or reloads. */
const NEVER = '9999-12-31T23:59:59Z';

async function realOrSelf(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/** The store entry holding the loaded file, if it came from the store. */
export async function loadedEntry(engine: Engine, entries: readonly ModelEntry[]): Promise<ModelEntry | undefined> {
  const loaded = await realOrSelf(engine.info.modelPath);
  for (const entry of entries) if ((await realOrSelf(entry.path)) === loaded) return entry;
  return undefined;
}

async function modifiedAt(path: string): Promise<string> {
  return stat(path).then((s) => s.mtime.toISOString(), () => new Date(0).toISOString());
}

async function loadedModel(engine: Engine, entry: ModelEntry | undefined): Promise<OllamaModel> {
  const name = modelId(engine);
  return { name, model: name, modified_at: await modifiedAt(engine.info.modelPath), size: engine.info.sizeBytes, digest: entry?.sha256 ?? '', details: detailsOf(engine.info.gguf) };
}

/** The loaded model first (whether or not it is in the store), then the other store entries. */
export async function tags(engine: Engine | null, store: ModelStore): Promise<OllamaModel[]> {
  const entries = (await store.list()).filter((entry) => entry.present);
  const loaded = engine ? await loadedEntry(engine, entries) : undefined;
  const others = await Promise.all(
    entries
      .filter((entry) => entry !== loaded)
      .map(async (entry) => ({ name: entry.name, model: entry.name, modified_at: entry.producedAt, size: entry.sizeBytes, digest: entry.sha256, details: await blobDetails(entry.sha256, entry.path) })),
  );
  return engine ? [await loadedModel(engine, loaded), ...others] : others;
}

export async function running(engine: Engine, store: ModelStore): Promise<OllamaRunningModel> {
  const model = await loadedModel(engine, await loadedEntry(engine, await store.list()));
  return { ...model, expires_at: NEVER, size_vram: 0, context_length: engine.info.nCtx };
}

export async function show(engine: Engine): Promise<OllamaShowResponse> {
  const capabilities = ['completion', ...(engine.capabilities.embed ? ['embedding'] : []), ...(engine.capabilities.tools ? ['tools'] : [])];
  return {
    license: '',
    modelfile: '',
    parameters: '',
    template: engine.info.chatTemplate,
    details: detailsOf(engine.info.gguf),
    model_info: {
      'general.name': engine.info.modelName,
      ...(engine.info.gguf ? { 'general.architecture': engine.info.gguf.architecture, 'general.parameter_count': engine.info.gguf.parameterCount } : {}),
      'inferd.context_length': engine.info.nCtx,
      'inferd.train_context_length': engine.info.trainContextSize,
      'inferd.embedding_length': engine.info.embeddingSize,
      'inferd.parallel': engine.info.parallel,
    },
    capabilities,
    modified_at: await modifiedAt(engine.info.modelPath),
  };
}
