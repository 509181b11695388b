// Loading llama.cpp's native binding. Kept apart from the engine so a reload reuses the binding
// (loading it costs most of a second) and so the few settings that avoid known traps live in
// one place.
import os from 'node:os';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';

export type RuntimeLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

export interface RuntimeOptions {
  /** Upper bound for threads of any context created through this runtime. */
  maxThreads: number;
  /** `auto` lets node-llama-cpp use a prebuilt GPU binary when one fits this machine. */
  gpu: 'auto' | false;
  /** `auto` prefers the native build of `inferd engine build` when there is one. */
  binary?: 'auto' | 'prebuilt' | undefined;
  log?: RuntimeLog | undefined;
}

/**
 * The cmake options of `inferd engine build`. node-llama-cpp names its local build folder after
 * them, so passing the same options to every getLlama call is what makes the daemon find the
 * native build (and fall back to the prebuilt binary when there is none).
 * OpenMP keeps the worker threads alive between decodes; without it (the prebuilt binary) every
 * token starts new threads, and 2 threads run 20-40x slower than 1 (docs/performance.md).
 */
export const NATIVE_CMAKE_OPTIONS: Readonly<Record<string, string>> = { GGML_NATIVE: 'ON', GGML_OPENMP: 'ON' };

/** Below this size a model runs fastest on one thread, whatever the binary. */
export const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/** `prebuilt` (node-llama-cpp's shipped binary) or `native` (`inferd engine build`). */
export type BinaryKind = 'prebuilt' | 'native';

export function binaryKindOf(llama: Llama): BinaryKind {
  return llama.buildType === 'localBuild' ? 'native' : 'prebuilt';
}

/**
 * The CPU threads to use when config leaves `threads` unset.
 * - prebuilt binary: 1. It has no OpenMP and keeps no thread pool between decodes, so any
 *   second thread costs more per token than it saves (the collapse, measured on every model).
 * - tiny models: 1, for the same synchronisation cost against very little arithmetic.
 * - native build (OpenMP): every core up to 4; above that leave one core for the event loop and
 *   the HTTP work, since decode is bound by memory bandwidth before it is bound by cores.
 */
export function defaultThreads(modelBytes: number, binary: BinaryKind, cores = os.availableParallelism()): number {
  if (binary === 'prebuilt' || modelBytes < SMALL_MODEL_BYTES) return 1;
  return Math.max(1, cores <= 4 ? cores : cores - 1);
}

/** True when `threads` would run into the prebuilt binary's per-token thread start-up. */
export function threadsCollapse(threads: number, binary: BinaryKind): boolean {
  return binary === 'prebuilt' && threads > 1;
}

export async function loadRuntime(options: RuntimeOptions): Promise<Llama> {
  return getLlama({
    // Never compile llama.cpp from source: without a prebuilt binary that silently takes
    // 20+ minutes. A missing binary must be a fast, clear error instead.
    build: 'never',
    gpu: options.gpu,
    ...(options.binary === 'prebuilt' ? {} : { cmakeOptions: { ...NATIVE_CMAKE_OPTIONS } }),
    maxThreads: options.maxThreads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      const text = message.trimEnd();
      if (!text || !options.log) return;
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) options.log('error', text);
      else if (level === LlamaLogLevel.warn) options.log('warn', text);
      else options.log('debug', text);
    },
  });
}

/**
 * Runtimes on which creating a model or a context failed. node-llama-cpp 3.21.1 builds the
 * LlamaModel (or LlamaContext) object before llama.cpp loads into it, and that object takes a
 * guard that keeps its parent from being disposed. When llama.cpp then refuses the file, runs out
 * of memory or is aborted, the object is dropped without releasing the guard. The parent's
 * dispose() still releases it if the object is in memory (it finds it through a WeakRef), but
 * once the garbage collector has taken it, dispose() waits forever. Which one happens depends on
 * when a collection runs, so after any such failure the runtime is treated as holding one.
 */
const failedLoads = new WeakSet<Llama>();

/** Records that creating a model or a context failed on `llama` (see failedLoads). */
export function noteFailedLoad(llama: Llama): void {
  failedLoads.add(llama);
}

/**
 * Releases the runtime; the caller has closed every engine on it. After a failed load, dispose()
 * may wait for a guard that nothing can release any more: it is started (it still disposes
 * whatever is left, and completes when the failed object was not collected) but not waited for.
 */
export async function disposeRuntime(llama: Llama): Promise<void> {
  if (!failedLoads.has(llama)) return llama.dispose();
  void llama.dispose().catch(() => {});
}

export function acceleratorOf(llama: Llama): string {
  return llama.gpu === false ? 'cpu' : llama.gpu;
}
