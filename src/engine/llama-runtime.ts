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
  log?: RuntimeLog | undefined;
}

/** Below this size a model runs fastest on one thread. */
export const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/** The CPU threads to use when config leaves `threads` unset. */
export function defaultThreads(modelBytes: number): number {
  // On a tiny model (the demo model is a few MB) thread synchronisation costs more than the
  // arithmetic it spreads: on 2 cores, 1 thread gives ~20x the tokens/s of 4 (engine notes §5).
  if (modelBytes < SMALL_MODEL_BYTES) return 1;
  return Math.max(1, os.availableParallelism());
}

export async function loadRuntime(options: RuntimeOptions): Promise<Llama> {
  return getLlama({
    // Never compile llama.cpp from source: without a prebuilt binary that silently takes
    // 20+ minutes. A missing binary must be a fast, clear error instead.
    build: 'never',
    gpu: options.gpu,
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

export function acceleratorOf(llama: Llama): string {
  return llama.gpu === false ? 'cpu' : llama.gpu;
}
