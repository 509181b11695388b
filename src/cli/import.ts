// `inferd import --name N FILE [--expect-sha256 H]`: copy a local GGUF file into the store.
// Exit codes: 0 imported, 1 checksum mismatch or I/O failure, 2 usage error.
import type { Command } from 'commander';
import { isInferdError } from '../errors.js';
import { importFile, ModelStore } from '../store/index.js';
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
      const store = await ModelStore.open(config.models_home);
      const result = await importFile(store, flags.name, file, {
        expectSha256: flags.expectSha256,
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
      process.exit(isInferdError(err) && (err.code === 'invalid_request' || err.code === 'config_invalid') ? EXIT.usage : EXIT.failed);
    }
  });
}
