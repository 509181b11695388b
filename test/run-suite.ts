// `npm test`: the tap suite inside a temp root of its own, then the hygiene check of issue 13:
// the run must leave nothing in the temp dir. Every test process gets TMPDIR=<root> (os.tmpdir()
// honours it, and so do the child daemons, nginx, HAProxy and Chromium started by tests), so
// whatever a test forgets to remove is found here, named, and fails the run, and runs of other
// people on the same machine neither disturb the check nor get disturbed by it.
// The daemon's last-resort runtime dir, `/tmp/inferd-<uid>` (contract §1.8, used when neither
// XDG_RUNTIME_DIR nor HOME is set), is hard-coded and escapes TMPDIR: it is checked too, and
// counts as a leftover when the run created it.
// Arguments are passed to tap (`npm test -- test/cli/run.test.ts`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRuntimeDir, effectiveUid } from '../src/ipc/paths.js';

/**
 * Caches the test processes of one run share, removed with the root: the demo-model files, and
 * the compile cache of ts-node (tap's TypeScript loader, via v8-compile-cache-lib), named by uid.
 */
const SHARED = new Set(['inferd-test-models', `v8-compile-cache-${process.getuid?.() ?? ''}`]);

const root = mkdtempSync(join(tmpdir(), 'inferd-test-run-'));
const fallbackRuntimeDir = defaultRuntimeDir({}, effectiveUid());
// Someone else's daemon may own it already; only one this run made is ours to report and remove.
const fallbackExisted = existsSync(fallbackRuntimeDir);
const localTap = join(process.cwd(), 'node_modules', '.bin', 'tap');
const child = spawn(existsSync(localTap) ? localTap : 'tap', process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, TMPDIR: root } });
// Ctrl-C reaches tap through the terminal's process group; we only wait and then clean up.
process.on('SIGINT', () => undefined);
const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];

const left = readdirSync(root).filter((name) => !SHARED.has(name));
rmSync(root, { recursive: true, force: true });
if (!fallbackExisted && existsSync(fallbackRuntimeDir)) {
  left.push(`${fallbackRuntimeDir} (the runtime-dir fallback: a daemon started without --runtime-dir, HOME or XDG_RUNTIME_DIR)`);
  rmSync(fallbackRuntimeDir, { recursive: true, force: true });
}
if (left.length > 0) {
  process.stderr.write(`\ntest hygiene: the run left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temp dir (removed now):\n`);
  for (const name of left.sort()) process.stderr.write(`  ${name}\n`);
  process.stderr.write('Remove them in the test that makes them (t.teardown, or t.testdir()).\n');
}
process.exit(code !== 0 || signal !== null ? (code ?? 1) : left.length > 0 ? 1 : 0);
