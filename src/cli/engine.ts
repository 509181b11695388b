// `inferd engine build`: a one-time native compile of llama.cpp (node-llama-cpp's own build path,
// with native CPU flags and OpenMP). The daemon uses it from its next start; `serve` never
// compiles anything.
import type { Command } from 'commander';
import { NATIVE_CMAKE_OPTIONS } from '../engine/llama-runtime.js';
import { buildNative, findNativeBuild, localBuildsDirectory } from '../engine/native-build.js';
import { EXIT, reportError } from './common.js';

export function registerEngine(program: Command): void {
  const engine = program.command('engine').description('the llama.cpp engine binary');
  engine
    .command('build')
    .description('compile llama.cpp natively for this machine (once, several minutes); used from the next start')
    .option('--force', 'rebuild even when a native build exists')
    .option('--dry-run', 'print what would be built and where, and whether a build exists; compile nothing')
    .action(async (options: { force?: boolean; dryRun?: boolean }) => {
      try {
        const options_ = Object.entries(NATIVE_CMAKE_OPTIONS).map(([key, value]) => `${key}=${value}`).join(' ');
        const existing = options.force && !options.dryRun ? null : await findNativeBuild();
        if (existing) {
          const where = existing.buildType;
          await existing.dispose();
          if (!options.dryRun) {
            process.stdout.write(`native build already present (${where}, ${options_}) in ${localBuildsDirectory()}; nothing to do (--force rebuilds)\n`);
            return;
          }
        }
        if (options.dryRun) {
          process.stdout.write(
            `cmake options: ${options_}\nlocal builds: ${localBuildsDirectory()}\nnative build: ${existing ? 'present' : 'absent'}\n`,
          );
          return;
        }
        process.stderr.write(`compiling llama.cpp with ${options_}; this takes several minutes\n`);
        const started = Date.now();
        const llama = await buildNative(options.force === true);
        const built = llama.buildType;
        await llama.dispose();
        if (built !== 'localBuild') {
          process.stderr.write(`inferd: the compile did not produce a native build (got ${built})\n`);
          process.exit(EXIT.failed);
        }
        process.stdout.write(`native build ready in ${((Date.now() - started) / 1000).toFixed(0)} s; the daemon uses it from its next start\n`);
      } catch (err) {
        process.exit(reportError(err));
      }
    });
}
