// The native llama.cpp build behind `inferd engine build`: node-llama-cpp compiles the llama.cpp
// source it bundles, with our cmake options, into its own local-build folder. The daemon's
// runtime passes the same options with `build: "never"`, so it picks that build up at the next
// start and falls back to the prebuilt binary when there is none. Nothing here runs at serve time.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getLlama, LlamaLogLevel, NoBinaryFoundError, type Llama } from 'node-llama-cpp';
import { NATIVE_CMAKE_OPTIONS } from './llama-runtime.js';

/** Where node-llama-cpp keeps local builds (one folder per platform and cmake options). */
export function localBuildsDirectory(): string {
  const entry = createRequire(import.meta.url).resolve('node-llama-cpp');
  return join(dirname(entry), '..', 'llama', 'localBuilds');
}

/** The native build when it exists and loads, else null. Never compiles. */
export async function findNativeBuild(): Promise<Llama | null> {
  try {
    return await getLlama({
      build: 'never',
      gpu: false,
      usePrebuiltBinaries: false,
      cmakeOptions: { ...NATIVE_CMAKE_OPTIONS },
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
    });
  } catch (err) {
    if (err instanceof NoBinaryFoundError) return null;
    throw err;
  }
}

/**
 * Compiles llama.cpp for this machine (several minutes; node-llama-cpp prints cmake's progress
 * on stderr). `force` rebuilds even when a build exists.
 */
export async function buildNative(force: boolean): Promise<Llama> {
  return getLlama({
    build: force ? 'forceRebuild' : 'auto',
    gpu: false,
    usePrebuiltBinaries: false,
    cmakeOptions: { ...NATIVE_CMAKE_OPTIONS },
    // The source comes from the git bundle inside the node-llama-cpp package: no network.
    skipDownload: false,
    progressLogs: true,
    logLevel: LlamaLogLevel.warn,
  });
}
