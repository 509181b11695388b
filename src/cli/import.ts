// `inferd import --name N FILE [--expect-sha256 H]`: copy a local GGUF file into the store.
// The file must pass the GGUF check (header, metadata, tensor table) or nothing is imported.
// Exit codes: 0 imported, 1 checksum mismatch or I/O failure, 2 usage error or a missing or
// invalid file (`model_not_found`, `model_invalid`).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InferdError, isInferdError } from '../errors.js';
import { checkModelFile } from '../lifecycle/check-model-file.js';
import { importFile, ModelStore, storeOptions } from '../store/index.js';
import { EXIT, loadConfigOrExit, withConfigOption } from './common.js';

interface ImportFlags {
  config?: string;
  name: string;
  expectSha256?: string;
  license?: string;
  modelsHome?: string;
}

export function registerImport(program: Command): void {
  withConfigOption(
    program
      .command('import')
      .description('copy a local GGUF file into the model store under a name')
      .argument('<file>', 'the GGUF file to import')
      .requiredOption('--name <name>', 'store name for the model')
      .option('--expect-sha256 <hex>', 'refuse the import unless the file has this SHA-256')
      .option('--license <license>', 'license recorded in the manifest')
      .option('--models-home <dir>', 'model store root (default ~/.inferd/models)'),
  ).action(async (file: string, flags: ImportFlags) => {
    const { config } = loadConfigOrExit(flags.config, flags.modelsHome !== undefined ? { models_home: flags.modelsHome } : {});
    try {
      const store = await ModelStore.open(config.models_home, storeOptions(config));
      const result = await importFile(store, flags.name, file, {
        expectSha256: flags.expectSha256,
        // The GGUF check runs on the private copy, before a blob or manifest exists.
        check: (copy) => checkModelFile(copy).catch((err: unknown) => {
          throw renamePath(err, copy, file);
        }),
        license: flags.license,
        onLockWait: (holder) => process.stderr.write(`inferd: waiting for ${holder ? `pid ${holder.pid}` : 'another process'} to release the lock\n`),
      });
      process.stderr.write(`inferd: imported ${result.name} (${result.sizeBytes} bytes) at ${result.path}\n`);
      process.stdout.write(
        `${JSON.stringify({ name: result.name, sha256: result.sha256, path: result.path, size_bytes: result.sizeBytes, blob_created: result.blobCreated })}\n`,
      );
      process.exit(EXIT.ok);
    } catch (err) {
      process.stderr.write(`inferd: ${err instanceof Error ? err.message : String(err)}\n`);
      const usage = ['invalid_request', 'config_invalid', 'model_not_found', 'model_invalid'];
      process.exit(isInferdError(err) && usage.includes(err.code) ? EXIT.usage : EXIT.failed);
    }
  });
}

/** The check ran on the private copy: name the user's file in the message instead. */
function renamePath(err: unknown, copy: string, file: string): unknown {
  if (!(err instanceof InferdError)) return err;
  const source = resolve(file);
  const message = `${err.message.split(copy).join(source)}; nothing was imported`;
  return new InferdError(err.code, message, { cause: err, detail: { ...err.detail, path: source } });
}
