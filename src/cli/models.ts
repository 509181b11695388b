// `inferd models`: list the models in the store. `--json` prints `{"models":[…]}` on stdout;
// `--reconcile` first runs the store's self-check (reports partials and orphans, sets aside
// manifests whose blob is missing) and adds its report under `"reconcile"`.
// Every listed blob is re-checked: the GGUF header, metadata and tensor table (cheap: never the
// weights), or with `--verify` also its SHA-256. A blob that fails is listed as `broken`.
import type { Command } from 'commander';
import { checkModelFile } from '../lifecycle/check-model-file.js';
import { ModelStore, reconcileStore, sha256File, storeOptions, type ModelEntry, type ReconcileReport } from '../store/index.js';
import { EXIT, loadConfigOrExit, reportError, withConfigOption } from './common.js';
import { formatBytes } from './progress-bar.js';

interface ModelsFlags {
  config?: string;
  json?: boolean;
  reconcile?: boolean;
  verify?: boolean;
  modelsHome?: string;
}

type Status = 'ok' | 'broken' | 'blob missing';
interface Checked extends ModelEntry {
  status: Status;
  problem: string | null;
}

export function registerModels(program: Command): void {
  withConfigOption(
    program
      .command('models')
      .description('list the models in the model store')
      .option('--json', 'machine-readable output on stdout')
      .option('--reconcile', 'check the store first: report partial downloads and orphan blobs, set aside dangling manifests')
      .option('--verify', 'also re-hash every blob against its SHA-256 (reads every byte)')
      .option('--models-home <dir>', 'model store root (default ~/.inferd/models)'),
  ).action(async (flags: ModelsFlags) => {
    const { config } = loadConfigOrExit(flags.config, flags.modelsHome !== undefined ? { models_home: flags.modelsHome } : {});
    try {
      const store = await ModelStore.open(config.models_home, storeOptions(config));
      const report = flags.reconcile ? await reconcileStore(store) : undefined;
      const models = await Promise.all((await store.list()).map((m) => recheck(m, flags.verify === true)));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ models: models.map(toJson), ...(report ? { reconcile: report } : {}) })}\n`);
      } else {
        if (report) printReport(report);
        printTable(models, store.root);
      }
      process.exit(EXIT.ok);
    } catch (err) {
      process.exit(reportError(err));
    }
  });
}

/** The cheap structural check of one listed blob (and its digest with --verify). */
async function recheck(m: ModelEntry, verify: boolean): Promise<Checked> {
  if (!m.present) return { ...m, status: 'blob missing', problem: `blob ${m.sha256} is missing` };
  try {
    await checkModelFile(m.path);
    if (verify) {
      const { sha256 } = await sha256File(m.path);
      if (sha256 !== m.sha256) return { ...m, status: 'broken', problem: `blob hashes to ${sha256}, not ${m.sha256}` };
    }
    return { ...m, status: 'ok', problem: null };
  } catch (err) {
    return { ...m, status: 'broken', problem: err instanceof Error ? err.message : String(err) };
  }
}

function toJson(m: Checked) {
  return {
    name: m.name,
    sha256: m.sha256,
    size_bytes: m.sizeBytes,
    path: m.path,
    present: m.present,
    status: m.status,
    problem: m.problem,
    license: m.license,
    produced_at: m.producedAt,
    source: m.source,
  };
}

function printTable(models: Checked[], root: string): void {
  if (models.length === 0) {
    process.stderr.write(`inferd: no models in ${root}\n`);
    return;
  }
  const rows = [['NAME', 'SIZE', 'SHA256', 'STATUS'], ...models.map((m) => [m.name, formatBytes(m.sizeBytes), m.sha256.slice(0, 12), m.status])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  for (const m of models) if (m.problem !== null) process.stderr.write(`inferd: ${m.name}: ${m.problem}\n`);
}

function printReport(r: ReconcileReport): void {
  const say = (line: string) => process.stderr.write(`inferd: ${line}\n`);
  for (const p of r.partials) {
    say(`partial download ${p.sha256?.slice(0, 12) ?? `of ${p.url ?? 'an unknown URL'}`}: ${formatBytes(p.bytes)}${p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : ''} (${p.resumable ? 'resumable' : 'not resumable'})`);
  }
  for (const o of r.orphanBlobs) say(`orphan blob ${o.sha256.slice(0, 12)} (${formatBytes(o.bytes)}), no manifest names it`);
  for (const d of r.danglingManifests) say(`manifest ${d.name} pointed at missing blob ${d.sha256.slice(0, 12)}; moved to ${d.movedTo}`);
  for (const i of r.invalidManifests) say(`invalid manifest ${i.file} moved to ${i.movedTo}: ${i.error}`);
  for (const p of r.removed) say(`removed leftover ${p}`);
  for (const l of r.staleLocks) say(`stale lock ${l.path} (pid ${l.pid} is gone)`);
  for (const u of r.unknown) say(`unexpected entry ${u} (left alone)`);
}
