// The `inferd` command as users run it: exit codes and output of serve (bad config), status,
// doctor and demo-model, against a real daemon process.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { request } from 'undici';
import { DEMO_MODELS } from '../../src/demo-model/index.js';
import { CLI, spawnDaemon } from '../helpers/child-daemon.js';
import { demoModelPath } from '../helpers/demo-model.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'inferd-cli-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));
const env = { ...process.env, HOME: home, INFERD_CONFIG: '' };

async function inferd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('serve: an invalid value exits 2 naming the key and the value', async (t) => {
  const flag = await inferd(['serve', '--n-ctx', 'abc']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /invalid config: n_ctx = "abc" \(from --n-ctx\): must be an integer/);
  const fromEnv = (await run(process.execPath, [CLI, 'serve'], { env: { ...env, INFERD_PARALLEL: 'lots' } }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  ));
  t.equal(fromEnv.code, 2);
  t.match(fromEnv.stderr, /parallel = "lots" \(from INFERD_PARALLEL\)/);
  const unknown = await inferd(['serve', '--bogus']);
  t.equal(unknown.code, 2, 'an unknown flag is a usage error too');
});

t.test('demo-model --out writes the pinned bytes', async (t) => {
  const out = join(home, 'demo-tiny.gguf');
  const res = await inferd(['demo-model', '--out', out, '--variant', 'tiny']);
  t.equal(res.code, 0);
  t.match(JSON.parse(res.stdout), { path: out, sha256: DEMO_MODELS.tiny.sha256, sizeBytes: DEMO_MODELS.tiny.sizeBytes });
  t.equal(createHash('sha256').update(await readFile(out)).digest('hex'), DEMO_MODELS.tiny.sha256);
  t.equal((await inferd(['demo-model', '--out', out, '--variant', 'huge'])).code, 2);
});

t.test('status and doctor against a running daemon', async (t) => {
  const daemon = await spawnDaemon(t, ['--model', await demoModelPath('tiny'), '--threads', '1']);

  const status = await inferd(['status', '--url', daemon.url]);
  t.equal(status.code, 0, 'status exits 0 once ready');
  t.match(status.stderr, /model inferd-demo-tiny: accelerator cpu/);
  t.match(status.stderr, /^ready$/m);

  const json = await inferd(['status', '--url', daemon.url, '--json']);
  const frames = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
  t.same(frames.map((f) => f.status), ['capabilities', 'ready'], '--json prints the frames');

  const doctor = await inferd(['doctor', '--url', daemon.url]);
  t.equal(doctor.code, 0);
  t.match(doctor.stdout, /\[ ok \] llama\.cpp: binding loaded/);
  t.match(doctor.stdout, /\[ ok \] backend: model inferd-demo-tiny/);
  t.match(doctor.stdout, new RegExp(`\\[ ok \\] daemon: ${daemon.url}: ready`));
  t.match(doctor.stdout, /^\[ ok \] base path: none$/m);
  t.match(doctor.stdout, /^\[ ok \] downloads: https only; private, loopback and metadata hosts refused; max_model_bytes 256 GiB$/m);
  t.match(doctor.stdout, /^\[ ok \] quarantine: \d+ files?, .* \(caps: quarantine_max_files 8, quarantine_max_bytes 32\.0 GiB\)$/m);

  // --watch follows until the daemon drains, then exits 1.
  const watching = inferd(['status', '--url', daemon.url, '--watch']);
  // Wait until the watcher is connected (the daemon counts its admin subscribers).
  while (!/inferd_admin_subscribers 1\b/.test(await (await request(`${daemon.url}/metrics`)).body.text())) {
    await new Promise((r) => setTimeout(r, 100));
  }
  daemon.child.kill('SIGTERM');
  const watched = await watching;
  t.equal(watched.code, 1, 'draining ends a --watch with exit 1');
  t.match(watched.stderr, /draining/);
  t.equal(await daemon.exited, 0);
});

t.test('status with nothing listening exits 2', async (t) => {
  const res = await inferd(['status', '--url', 'http://127.0.0.1:9', '--wait', '0']);
  t.equal(res.code, 2);
  t.match(res.stderr, /no inferd answers at http:\/\/127\.0\.0\.1:9/);
});
