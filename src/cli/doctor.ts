// `inferd doctor`: a punch list of what inferd would use and whether it works, one line per
// check (`[ ok ]`, `[warn]`, `[FAIL]`). Exit 0 when nothing failed, else 1.
import os from 'node:os';
import type { Command } from 'commander';
import type { InferdConfig } from '../config/schema.js';
import { checkGgufFile } from '../engine/gguf-check.js';
import { acceleratorOf, binaryKindOf, defaultThreads, loadRuntime, threadsCollapse } from '../engine/llama-runtime.js';
import { DEMO_MODELS } from '../demo-model/index.js';
import { redact } from '../download/index.js';
import { ModelStore, storeOptions } from '../store/index.js';
import type { StatusEvent } from '../status/events.js';
import { describeTarget, openAdminStream, statusEvents, type AdminTarget } from './admin-client.js';
import { EXIT, loadConfigOrExit, withConfigOption } from './common.js';
import { checkBind } from '../guard/bind-policy.js';
import { isLoopbackBind } from '../guard/hosts.js';
import { KeyRing } from '../guard/keys.js';
import { OriginPolicy } from '../guard/origins.js';
import { trustFunction } from '../guard/trust-proxy.js';
import { execveOf, mallocPlan, MMAP_THRESHOLD } from './malloc-env.js';
import { formatBytes } from './progress-bar.js';
import { adminTarget, describe } from './status.js';
import { DEMO_MODEL_NAME } from '../lifecycle/model-source.js';

type Verdict = 'ok' | 'warn' | 'FAIL';

/** What the native build gained in bench/vs-llama-server on a 2-core machine (docs/performance.md). */
const NATIVE_GAIN =
  'about 2x faster prompt evaluation (medium f16 model, ~780-token prompt, 1 thread: first token in 2.1 s vs 4.2 s) and threads that no longer collapse (demo model, 2 threads: 716 vs 174 tok/s), measured by bench/vs-llama-server';

export function registerDoctor(program: Command): void {
  withConfigOption(
    program
      .command('doctor')
      .description('check the configuration, the model, llama.cpp and a running daemon')
      .option('--url <url>', 'daemon base URL (default from config)')
      .option('--admin-addr <path>', 'ask admin.sock instead of HTTP'),
  ).action(async (flags: { config?: string; url?: string; adminAddr?: string }) => {
    const loaded = loadConfigOrExit(flags.config);
    let failed = false;
    const line = (verdict: Verdict, label: string, detail: string) => {
      if (verdict === 'FAIL') failed = true;
      process.stdout.write(`[${verdict === 'ok' ? ' ok ' : verdict}] ${label}: ${detail}\n`);
    };
    const { config } = loaded;
    line('ok', 'config', loaded.file ? `loaded ${loaded.file}` : 'no config file; defaults, env and flags');
    for (const [key, origin] of Object.entries(loaded.origin)) {
      // Keys are secrets: the security line below gives their count, never their value.
      const shown = key === 'api_keys' ? `${config.api_keys.length} key(s)` : JSON.stringify(config[key as keyof InferdConfig]);
      line('ok', `  ${key}`, `${shown} (from ${origin})`);
    }
    checkSecurity(config, line);
    await checkModel(config, line);
    await checkDownloads(config, line);
    await checkRuntime(config, line);
    await checkDaemon(adminTarget(flags), line);
    process.exit(failed ? EXIT.failed : EXIT.ok);
  });
}

type Line = (verdict: Verdict, label: string, detail: string) => void;

/** The security posture: bind, keys by scope (never the keys), hosts, origins, proxies. */
function checkSecurity(config: InferdConfig, line: Line): void {
  let keys: KeyRing;
  try {
    keys = new KeyRing(config);
    trustFunction(config.trust_proxy);
  } catch (err) {
    line('FAIL', 'security', (err as Error).message);
    return;
  }
  const counts = keys.counts();
  const bind = checkBind(config, keys.enabled);
  line(bind.ok ? (bind.warning ? 'warn' : 'ok') : 'FAIL', 'bind', bind.ok ? (bind.warning ?? `${config.host}:${config.port}${isLoopbackBind(config.host) ? ' (loopback)' : ''}`) : bind.message);
  line('ok', 'api keys', keys.enabled ? `${counts.admin} admin, ${counts.inference} inference${config.api_keys_file ? ` (file ${config.api_keys_file})` : ''}` : 'none: no key needed (loopback only)');
  line('ok', 'hosts', `loopback${config.allowed_hosts.length ? `, ${config.allowed_hosts.join(', ')}` : ''}`);
  line('ok', 'origins', new OriginPolicy(config.cors_origins).describe());
  line('ok', 'trust_proxy', config.trust_proxy === false ? 'off (X-Forwarded-* ignored)' : JSON.stringify(config.trust_proxy));
  line('ok', 'base path', config.base_path ? `${config.base_path} (a trusted X-Forwarded-Prefix wins)` : `none${config.trust_proxy === false ? '' : ' (a trusted X-Forwarded-Prefix may set one)'}`);
  line('ok', 'rate limit', config.rate_limit_per_minute > 0 ? `${config.rate_limit_per_minute}/min per key or client IP` : 'off');
}

async function checkModel(config: InferdConfig, line: Line): Promise<void> {
  const model = config.model;
  try {
    const store = await ModelStore.open(config.models_home);
    line('ok', 'store', store.root);
    if (model === undefined) {
      const demo = await store.resolve(DEMO_MODEL_NAME);
      const fresh = demo?.sha256 === DEMO_MODELS.default.sha256;
      line('ok', 'model', `built-in demo model ${fresh ? `in the store at ${demo.path}` : '(built into the store on first start)'}`);
      return;
    }
    if ('path' in model) {
      const summary = await checkGgufFile(model.path);
      line('ok', 'model', `${model.path}: ${summary.architecture}${summary.name ? ` "${summary.name}"` : ''}, ${formatBytes(summary.sizeBytes)}, context ${summary.contextLength}`);
      return;
    }
    const size = await store.blobSize(model.sha256);
    if (size === null) {
      line(config.auto_pull ? 'warn' : 'FAIL', `model[${model.name}]`, `not in the store; ${config.auto_pull ? 'it downloads on first start' : 'run `inferd pull` (auto_pull is off)'} from ${redact(new URL(model.source_url))}`);
    } else {
      line('ok', `model[${model.name}]`, `blob present (${formatBytes(size)}) at ${store.blobPath(model.sha256)}`);
    }
  } catch (err) {
    line('FAIL', 'model', (err as Error).message);
  }
}

/** The download policy and the quarantine folder against its caps. */
async function checkDownloads(config: InferdConfig, line: Line): Promise<void> {
  const cap = (n: number, fmt: (n: number) => string) => (n > 0 ? fmt(n) : 'no cap');
  line(
    config.pull_allow_private ? 'warn' : 'ok',
    'downloads',
    `https only; ${config.pull_allow_private ? 'private and loopback hosts ALLOWED (pull_allow_private)' : 'private, loopback and metadata hosts refused'}; ` +
      `max_model_bytes ${cap(config.max_model_bytes, formatBytes)}`,
  );
  try {
    const store = await ModelStore.open(config.models_home, storeOptions(config));
    const files = await store.entries(store.layout.quarantineDir);
    let bytes = 0;
    for (const f of files) bytes += (await store.fileSize(store.path(store.layout.quarantineDir, f))) ?? 0;
    line(
      'ok',
      'quarantine',
      `${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(bytes)} in ${store.layout.quarantineDir} ` +
        `(caps: quarantine_max_files ${cap(config.quarantine_max_files, String)}, quarantine_max_bytes ${cap(config.quarantine_max_bytes, formatBytes)})`,
    );
  } catch (err) {
    line('FAIL', 'quarantine', (err as Error).message);
  }
}

async function checkRuntime(config: InferdConfig, line: Line): Promise<void> {
  try {
    const llama = await loadRuntime({ maxThreads: os.availableParallelism(), gpu: 'auto', binary: config.engine_binary });
    const binary = binaryKindOf(llama);
    line('ok', 'llama.cpp', `binding loaded (${llama.buildType}, ${binary === 'native' ? 'native build with OpenMP' : 'prebuilt binary'}), accelerator ${acceleratorOf(llama)}, ${llama.cpuMathCores} math cores`);
    if (binary === 'prebuilt') {
      line('ok', 'native build', `not in use; \`inferd engine build\` (one-time compile, several minutes) would gain ${NATIVE_GAIN}`);
    }
    const modelBytes = config.model === undefined ? DEMO_MODELS.default.sizeBytes : undefined;
    const threads = config.threads ?? (modelBytes === undefined ? undefined : defaultThreads(modelBytes, binary));
    const shown = threads === undefined ? `${defaultThreads(Number.MAX_SAFE_INTEGER, binary)} for models over 64 MiB, 1 below` : String(threads);
    if (config.threads !== undefined && threadsCollapse(config.threads, binary)) {
      line('warn', 'threads', `${shown}: the prebuilt binary restarts its threads for every token, so more than 1 runs many times slower; use 1 or run \`inferd engine build\``);
    } else {
      line('ok', 'threads', shown);
    }
    await llama.dispose();
  } catch (err) {
    line('FAIL', 'llama.cpp', (err as Error).message);
  }
  checkMalloc(line);
}

/** Whether `serve` started from this environment runs with glibc's mmap threshold fixed. */
function checkMalloc(line: Line): void {
  const plan = mallocPlan(['serve'], process.env, process.platform, execveOf() !== undefined);
  if (plan.action === 'hint') line('warn', 'malloc', plan.message);
  else if (plan.action === 'reexec') line('ok', 'malloc', `serve sets MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD} itself (memory stays flat across reloads)`);
  else line('ok', 'malloc', plan.reason === 'not glibc' ? 'not Linux: nothing to set' : `${plan.reason}: MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_ ?? '(tunables)'}`);
}

async function checkDaemon(target: AdminTarget, line: Line): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('no answer within 2 s')), 2000);
  try {
    const stream = await openAdminStream(target, ac.signal);
    let snapshot: StatusEvent | undefined;
    for await (const event of statusEvents(stream)) {
      if (event.status === 'capabilities') line('ok', 'backend', describe(event));
      else {
        snapshot = event;
        break;
      }
    }
    stream.destroy();
    if (!snapshot) line('FAIL', 'daemon', `${describeTarget(target)}: the stream ended without a status`);
    else line(snapshot.status === 'failed' ? 'FAIL' : snapshot.status === 'ready' ? 'ok' : 'warn', 'daemon', `${describeTarget(target)}: ${describe(snapshot)}`);
  } catch (err) {
    line('warn', 'daemon', `not running? ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
