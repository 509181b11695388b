// `inferd pull`: download the configured model (or one named on the command line) into the
// store, with a progress bar. Resumable: run it again after an interruption. `--url` without
// `--sha256` computes the digest of what arrives and keeps the file only if it is a valid GGUF. Exit codes: 0 the
// blob is in the store, 1 download or verification failed, 2 usage or configuration error.
import type { Command } from 'commander';
import type { InferdConfig } from '../config/schema.js';
import { isInferdError } from '../errors.js';
import type { LoadPhase } from '../status/events.js';
import { assertHttpsUrl, downloadPolicy, pullModel, pullUrl, readCaFile, type PullSpec, type UrlPullSpec } from '../download/index.js';
import { checkModelFile } from '../lifecycle/check-model-file.js';
import { assertModelName, assertSha256, ModelStore, storeOptions, type LockInfo } from '../store/index.js';
import { EXIT, loadConfigOrExit, withConfigOption } from './common.js';
import { ProgressBar } from './progress-bar.js';

interface PullFlags {
  config?: string;
  url?: string;
  sha256?: string;
  name?: string;
  sizeBytes?: string;
  license?: string;
  modelsHome?: string;
  caFile?: string;
  verify?: boolean;
}

export function registerPull(program: Command): void {
  withConfigOption(
    program
      .command('pull')
      .description('download the configured model (or --url/--sha256/--name) into the model store; resumable')
      .option('--url <https-url>', 'download this URL instead of the configured model (with --name, and --sha256 when known)')
      .option('--sha256 <hex>', 'expected SHA-256 of the file (64 lowercase hex); without it, the digest of what arrives is recorded')
      .option('--name <name>', 'store name for the model')
      .option('--size-bytes <n>', 'expected size in bytes (optional)')
      .option('--license <license>', 'license recorded in the manifest (optional)')
      .option('--models-home <dir>', 'model store root (default ~/.inferd/models)')
      .option('--ca-file <pem>', 'extra CA certificates to trust for the download')
      .option('--verify', 're-hash a blob that is already in the store instead of trusting its size'),
  ).action(async (flags: PullFlags) => {
    process.exit(await runPull(flags));
  });
}

async function runPull(flags: PullFlags): Promise<number> {
  const { config } = loadConfigOrExit(flags.config, {
    ...(flags.modelsHome !== undefined ? { models_home: flags.modelsHome } : {}),
    ...(flags.caFile !== undefined ? { ca_file: flags.caFile } : {}),
  });
  const spec = specFrom(flags, config);
  if (typeof spec === 'number') return spec;

  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = Boolean(process.stderr.isTTY);
  const bar = new ProgressBar({ label: spec.name });
  try {
    const store = await ModelStore.open(config.models_home, storeOptions(config));
    const caPem = config.ca_file ? await readCaFile(config.ca_file) : undefined;
    process.stderr.write(`inferd: pulling ${spec.name} -> ${store.root}\n`);
    const options = {
      caPem,
      ...downloadPolicy(config),
      signal: controller.signal,
      // A TTY bar wants frequent updates; plain logs keep the daemon's cadence.
      ...(tty ? { progress: { everyBytes: 1024 * 1024, everyMs: 250 } } : {}),
      onEvent: (event: LoadPhase) => onEvent(event, bar),
      onLockWait: (holder: LockInfo | null) =>
        bar.log(`inferd: waiting for ${holder ? `pid ${holder.pid}` : 'another process'}, which holds the lock on this model`),
    };
    const result =
      'sha256' in spec
        ? await pullModel(store, spec, {
            ...options,
            verifyCached: flags.verify ? 'sha256' : 'size',
            // Asked for explicitly: try even a URL whose last download failed its checksum.
            retryKnownMismatch: true,
          })
        : await pullUrl(store, spec, { ...options, check: checkModelFile });
    bar.finish();
    const how = result.source === 'store' ? 'already in the store' : 'downloaded and verified';
    process.stderr.write(`inferd: blob ready at ${result.path} (${how})\n`);
    process.stdout.write(
      `${JSON.stringify({ name: result.name, sha256: result.sha256, path: result.path, size_bytes: result.sizeBytes, source: result.source })}\n`,
    );
    return EXIT.ok;
  } catch (err) {
    bar.interrupt();
    if (controller.signal.aborted) {
      process.stderr.write('inferd: interrupted; run `inferd pull` again to resume\n');
      return EXIT.failed;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`inferd: ${message}\n`);
    if (isInferdError(err) && (err.code === 'invalid_request' || err.code === 'config_invalid')) return EXIT.usage;
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function onEvent(event: LoadPhase, bar: ProgressBar): void {
  switch (event.phase) {
    case 'download':
      bar.update(event.downloaded_bytes, event.total_bytes, event.total_bytes !== null && event.downloaded_bytes >= event.total_bytes);
      break;
    case 'verify':
      bar.finish('inferd: verifying sha256');
      break;
    case 'quarantine':
      bar.log(`inferd: sha256 mismatch (expected ${event.expected_sha256}, got ${event.actual_sha256}); bytes moved to ${event.quarantine_path}`);
      break;
    default:
      break;
  }
}

/** The model to pull, from flags or config; a number is an exit code (nothing to do, or usage). */
function specFrom(flags: PullFlags, config: InferdConfig): PullSpec | UrlPullSpec | number {
  if (flags.url !== undefined || flags.sha256 !== undefined || flags.name !== undefined) {
    if (flags.url === undefined || flags.name === undefined) return usage('--url and --name go together (with --sha256 when the digest is known)');
    let sizeBytes: number | undefined;
    if (flags.sizeBytes !== undefined) {
      sizeBytes = /^\d+$/.test(flags.sizeBytes) ? Number(flags.sizeBytes) : NaN;
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) return usage(`--size-bytes must be a positive integer (got "${flags.sizeBytes}")`);
    }
    try {
      assertModelName(flags.name);
      if (flags.sha256 !== undefined) assertSha256(flags.sha256, '--sha256');
      assertHttpsUrl(flags.url, '--url');
    } catch (err) {
      return usage((err as Error).message);
    }
    const spec = { name: flags.name, url: flags.url, sizeBytes, license: flags.license };
    return flags.sha256 === undefined ? spec : { ...spec, sha256: flags.sha256 };
  }
  const model = config.model;
  if (model === undefined) {
    process.stderr.write('inferd: nothing to pull: no model is configured (the built-in demo model needs no download)\n');
    return EXIT.ok;
  }
  if ('path' in model) {
    process.stderr.write(`inferd: nothing to pull: the model is the local file ${model.path}\n`);
    return EXIT.ok;
  }
  return { name: model.name, sha256: model.sha256, url: model.source_url, sizeBytes: model.size_bytes, license: flags.license ?? model.license };
}

function usage(message: string): number {
  process.stderr.write(`inferd: ${message}\n`);
  return EXIT.usage;
}
