// Where the lifecycle gets its model: the built-in demo model (built into the store on first
// start, reused afterwards), a local file, or a pinned model from the store (downloaded when
// missing). Also owns the llama.cpp runtime, which outlives any single model across reloads.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Llama } from 'node-llama-cpp';
import type { InferdConfig } from '../config/schema.js';
import { DEMO_MODELS, writeDemoModel } from '../demo-model/index.js';
import type { Engine } from '../engine/engine.js';
import { checkGgufFile } from '../engine/gguf-check.js';
import { checkModelFile } from './check-model-file.js';
import { LlamaEngine } from '../engine/llama-engine.js';
import { binaryKindOf, defaultThreads, disposeRuntime, loadRuntime } from '../engine/llama-runtime.js';
import { acquireModel, downloadPolicy, readCaFile } from '../download/index.js';
import { importFile, ModelStore, reconcileStore, sha256File, storeOptions } from '../store/index.js';
import type { LoadPhase } from '../status/events.js';
import type { AcquiredModel, ModelTarget } from './lifecycle.js';

/** The store name the built-in demo model is kept under. */
export const DEMO_MODEL_NAME = 'inferd-demo';

export interface ModelSource {
  acquire(target: ModelTarget, onPhase: (phase: LoadPhase) => void, signal: AbortSignal): Promise<AcquiredModel>;
  /** Refuses a reload target that cannot be served (see Lifecycle `check`). */
  check?(target: ModelTarget, signal: AbortSignal): Promise<void>;
  load(model: AcquiredModel, onPhase: (phase: LoadPhase) => void, signal: AbortSignal): Promise<Engine>;
  /**
   * Starts loading the llama.cpp runtime in the background, before any model is known. Its
   * failure is not reported here: load() reports it, as if prepare() had never been called.
   */
  prepare?(): void;
  /** Releases the llama.cpp runtime. */
  close(): Promise<void>;
}

export function createModelSource(config: InferdConfig, log: FastifyBaseLogger): ModelSource {
  let store: Promise<ModelStore> | null = null;
  let runtime: Promise<Llama> | null = null;
  const openStore = () => (store ??= openAndReconcile(config, log));
  // The runtime's thread cap is fixed when it loads; a model's context gets its own count
  // below it (see load), which depends on the binary found (prebuilt or native).
  const openRuntime = () =>
    (runtime ??= loadRuntime({
      maxThreads: Math.max(config.threads ?? 1, os.availableParallelism()),
      gpu: 'auto',
      binary: config.engine_binary,
      log: (level, message) => log[level]({ component: 'llama.cpp' }, message),
    }));

  return {
    async acquire(target, onPhase, signal) {
      const models = await openStore();
      if (target === undefined) return { path: await ensureDemoModel(models, onPhase, log), sizeBytes: DEMO_MODELS.default.sizeBytes };
      const caPem = config.ca_file ? await readCaFile(config.ca_file) : undefined;
      const acquired = await acquireModel(target, models, { onEvent: onPhase, signal, autoPull: config.auto_pull, caPem, ...downloadPolicy(config) });
      // Header check now, not only at load: a reload to a bad file is refused while the
      // current model still serves.
      await checkGgufFile(acquired.path);
      return { path: acquired.path, sizeBytes: acquired.sizeBytes };
    },

    async check(target) {
      // A local file must exist and pass the GGUF check. A pinned store model is fetched and
      // verified during the reload itself (its failures roll back).
      if (target !== undefined && 'path' in target) await checkModelFile(target.path);
    },

    prepare() {
      // getLlama tests a prebuilt binding in a child process first (always on Linux in
      // node-llama-cpp 3.21.1, no option skips it; ~0.3 s). Started early, that test runs on
      // another core while the app is built, the port bound and the model file checked.
      openRuntime().catch(() => {});
    },

    async load(model, onPhase, signal) {
      const llama = await openRuntime();
      const threads = config.threads ?? defaultThreads(model.sizeBytes, binaryKindOf(llama));
      return LlamaEngine.load({
        llama,
        modelPath: model.path,
        nCtx: config.n_ctx,
        parallel: config.parallel,
        threads,
        onPhase,
        signal,
        cacheDir: config.cache_dir,
      });
    },

    async close() {
      const llama = await runtime?.catch(() => null);
      runtime = null;
      if (llama) await disposeRuntime(llama);
    },
  };
}

/** Opens the store and repairs what a crash may have left (reported in the log). */
async function openAndReconcile(config: InferdConfig, log: FastifyBaseLogger): Promise<ModelStore> {
  const store = await ModelStore.open(config.models_home, storeOptions(config));
  const report = await reconcileStore(store);
  const counts = Object.fromEntries(Object.entries(report).map(([key, list]) => [key, (list as unknown[]).length]));
  if (Object.values(counts).some((n) => n > 0)) log.info({ store: store.root, ...counts, report }, 'model store reconciled');
  return store;
}

/**
 * Puts the demo model into the store unless a blob with its pinned sha256 is already there.
 * The build takes a couple of seconds and needs no network.
 */
export async function ensureDemoModel(store: ModelStore, onPhase: (phase: LoadPhase) => void, log: FastifyBaseLogger): Promise<string> {
  const spec = DEMO_MODELS.default;
  const path = store.blobPath(spec.sha256);
  onPhase({ phase: 'checking_local', path });
  const resolved = await store.resolve(DEMO_MODEL_NAME);
  if (resolved && resolved.sha256 === spec.sha256 && (await sha256File(resolved.path)).sha256 === spec.sha256) return resolved.path;
  log.info({ path }, 'building the built-in demo model');
  const dir = await mkdtemp(join(store.root, '.demo-'));
  try {
    const built = await writeDemoModel(join(dir, 'demo.gguf'), 'default');
    const imported = await importFile(store, DEMO_MODEL_NAME, built.path, { expectSha256: spec.sha256, license: 'MIT' });
    return imported.path;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
