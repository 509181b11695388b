// `inferd pull`, `inferd import` and `inferd models` as real child processes (build first:
// `npm run build`). Includes the kill -9 mid-download + resume test and two concurrent pulls
// from two processes.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ggufLikePayload, sha256Hex, startHttpsServer, startHttpServer, type HttpsTestServer } from '../helpers/https-server.js';
import { demoModelPath } from '../helpers/demo-model.js';
import { tempDir } from './fixtures/temp-store.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.INFERD_CLI ?? join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;

if (!existsSync(CLI)) {
  t.fail(`${CLI} is missing: run \`npm run build\` before this test`);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], home: string): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  // A clean environment: no INFERD_* from the developer's shell, HOME in the temp dir.
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

const run = (args: string[], home: string) => start(args, home).done;

async function setup(t: Test, routes: Parameters<typeof startHttpsServer>[0]) {
  const server = await startHttpsServer(routes);
  t.teardown(() => server.close());
  const dir = await tempDir(t, 'inferd-cli-');
  const caFile = await server.writeCaFile(dir);
  const models = join(dir, 'models');
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ models_home: models, ca_file: caFile, pull_allow_private: true }));
  return { server, dir, models, config };
}

function pullArgs(server: HttpsTestServer, config: string, name: string, sha: string, path = '/m.gguf'): string[] {
  return ['pull', '--config', config, '--name', name, '--sha256', sha, '--url', server.url(path)];
}

/** Polls `cond` while the child runs; a child that exits first fails with its stderr. */
async function until(cond: () => boolean | Promise<boolean>, what: string, child: { child: ChildProcess; done: Promise<Run> }): Promise<void> {
  let exited: Run | null = null;
  void child.done.then((r) => (exited = r));
  for (let i = 0; i < 2000; i++) {
    if (await cond()) return;
    if (exited) throw new Error(`the child exited (${(exited as Run).code}) before ${what}: ${(exited as Run).stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('kill -9 in the middle of `inferd pull`, then a re-run resumes with Range', async (t) => {
  const body = ggufLikePayload(16 * MiB);
  const sha = sha256Hex(body);
  const { server, dir, models, config } = await setup(t, { '/m.gguf': { kind: 'file', body, throttle: { chunkBytes: 64 * 1024, delayMs: 4 } } });
  const partial = join(models, 'blobs', 'sha256', sha.slice(0, 2), `.partial-${sha}`, 'data.tmp');

  const first = start(pullArgs(server, config, 'big', sha), dir);
  await until(async () => (server.log[0]?.bytesSent ?? 0) >= 4 * MiB && ((await stat(partial).catch(() => null))?.size ?? 0) >= MiB, 'a partial on disk', first);
  first.child.kill('SIGKILL');
  const killed = await first.done;
  t.equal(killed.signal, 'SIGKILL', 'the first pull died by SIGKILL');
  const kept = (await stat(partial)).size;
  t.ok(kept > 0 && kept < body.length, `partial of ${kept} bytes survived`);

  const second = await run(pullArgs(server, config, 'big', sha), dir);
  t.equal(second.code, 0, second.stderr);
  t.equal(server.log.length, 2, 'one request per run');
  const resumed = server.log[1]!;
  t.equal(resumed.range, `bytes=${kept}-`, 'resumed from the bytes on disk');
  t.equal(resumed.status, 206);
  t.equal(resumed.bytesSent, body.length - kept, 'fetched only what was missing');
  t.ok(resumed.bytesSent < body.length, 'fewer bytes than the total the second time');
  const out = JSON.parse(second.stdout);
  t.match(out, { name: 'big', sha256: sha, size_bytes: body.length, source: 'download' });
  t.same(await readFile(out.path), body, 'the blob is byte-identical');
  t.match(second.stderr, /blob ready at/);
});

t.test('two `inferd pull` processes at once: one download, both succeed', async (t) => {
  const body = ggufLikePayload(4 * MiB);
  const sha = sha256Hex(body);
  // The server holds the body after its first chunk until the second process says it is waiting
  // for the lock, so the overlap does not depend on how fast a process starts on a busy machine.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const { server, dir, config } = await setup(t, { '/m.gguf': { kind: 'file', body, holdAfterFirstChunk: held } });
  const first = start(pullArgs(server, config, 'm', sha), dir);
  await until(() => (server.log[0]?.bytesSent ?? 0) > 0, 'the first download to begin', first);
  const second = start(pullArgs(server, config, 'm', sha), dir);
  try {
    await until(() => /waiting for pid \d+/.test(second.stderr()), 'the second pull to wait for the lock', second);
  } finally {
    release();
  }
  const [a, b] = await Promise.all([first.done, second.done]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  t.same([JSON.parse(a.stdout).source, JSON.parse(b.stdout).source], ['download', 'store'], 'the first downloads, the second takes it from the store');
  t.equal(server.log.length, 1, 'one GET across both processes');
  t.equal(server.log[0]!.bytesSent, body.length);
  t.match(b.stderr, new RegExp(`waiting for pid ${first.child.pid}`), 'the second process named the lock holder');
});

t.test('pull from the config file, exit codes, and stdout/stderr split', async (t) => {
  const body = ggufLikePayload(256 * 1024);
  const sha = sha256Hex(body);
  const { server, dir, models, config } = await setup(t, { '/m.gguf': { kind: 'file', body } });
  const caFile = join(dir, 'ca.pem');

  // The configured model.
  const cfg2 = join(dir, 'config2.json');
  await writeFile(cfg2, JSON.stringify({ models_home: models, ca_file: caFile, pull_allow_private: true, model: { name: 'cfg', sha256: sha, source_url: server.url('/m.gguf'), size_bytes: body.length } }));
  const ok = await run(['pull', '--config', cfg2], dir);
  t.equal(ok.code, 0, ok.stderr);
  t.match(JSON.parse(ok.stdout), { name: 'cfg', source: 'download' });
  t.match(ok.stderr, /pulling cfg ->/);
  t.match(ok.stderr, /cfg .*256 KiB \/ 256 KiB/, 'plain progress lines when stderr is not a TTY');
  const again = await run(['pull', '--config', cfg2], dir);
  t.match(JSON.parse(again.stdout), { source: 'store' });

  const none = await run(['pull', '--config', config], dir);
  t.equal(none.code, 0);
  t.match(none.stderr, /nothing to pull/);

  const partialFlags = await run(['pull', '--config', config, '--url', server.url('/m.gguf')], dir);
  t.equal(partialFlags.code, 2, 'usage error');
  t.match(partialFlags.stderr, /--url and --name go together/);

  const plain = await startHttpServer({ '/m.gguf': { kind: 'file', body } });
  t.teardown(() => plain.close());
  const insecure = await run(['pull', '--config', config, '--name', 'x', '--sha256', sha, '--url', plain.url('/m.gguf')], dir);
  t.equal(insecure.code, 2);
  t.match(insecure.stderr, /must be https:\/\//);
  t.equal(plain.log.length, 0, 'no request reached the http server');

  const badName = await run(['pull', '--config', config, '--name', '../x', '--sha256', sha, '--url', server.url('/m.gguf')], dir);
  t.equal(badName.code, 2);

  const missing = await run(pullArgs(server, config, 'x', '9'.repeat(64), '/nope.gguf'), dir);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /HTTP 404/);
  t.equal(missing.stdout, '', 'nothing on stdout for a failure');

  const mismatch = await run(pullArgs(server, config, 'y', '0'.repeat(64)), dir);
  t.equal(mismatch.code, 1);
  t.match(mismatch.stderr, /sha256 mismatch/i);
  t.match(mismatch.stderr, /quarantine/);

  const badConfig = join(dir, 'bad.json');
  await writeFile(badConfig, JSON.stringify({ model: { name: 'z', sha256: sha, source_url: 'http://x/y' } }));
  const cfgErr = await run(['pull', '--config', badConfig], dir);
  t.equal(cfgErr.code, 2, 'config error');
});

t.test('`inferd pull --url --name` without --sha256: resumable, the digest computed, a non-GGUF refused', async (t) => {
  const body = await readFile(await demoModelPath('default'));
  const sha = sha256Hex(body);
  const page = Buffer.from('<!doctype html><p>not a model</p>\n'.repeat(500));
  const { server, dir, models, config } = await setup(t, {
    '/Demo.gguf': { kind: 'file', body, throttle: { chunkBytes: 64 * 1024, delayMs: 8 } },
    '/page.gguf': { kind: 'file', body: page },
  });
  const args = ['pull', '--config', config, '--name', 'demo', '--url', server.url('/Demo.gguf')];
  const blobs = join(models, 'blobs', 'sha256');
  const partial = async () => {
    const dirs = (await readdir(blobs).catch(() => [])).filter((e) => e.startsWith('.pull-'));
    return dirs.length === 1 ? ((await stat(join(blobs, dirs[0]!, 'data.tmp')).catch(() => null))?.size ?? 0) : 0;
  };

  const first = start(args, dir);
  await until(async () => (server.log[0]?.bytesSent ?? 0) >= 2 * MiB && (await partial()) >= MiB, 'a partial on disk', first);
  first.child.kill('SIGKILL');
  t.equal((await first.done).signal, 'SIGKILL');
  const kept = await partial();
  t.ok(kept > 0 && kept < body.length, `partial of ${kept} bytes survived`);
  const rec = await run(['models', '--config', config, '--reconcile', '--json'], dir);
  t.match(JSON.parse(rec.stdout).reconcile.partials, [{ sha256: null, url: server.url('/Demo.gguf'), bytes: kept, totalBytes: body.length, resumable: true }], 'reconcile lists it');

  const second = await run(args, dir);
  t.equal(second.code, 0, second.stderr);
  t.equal(server.log[1]!.range, `bytes=${kept}-`, 'resumed from the bytes on disk');
  const out = JSON.parse(second.stdout);
  t.match(out, { name: 'demo', sha256: sha, size_bytes: body.length, source: 'download' }, 'the computed digest');
  t.same(await readFile(out.path), body, 'the blob is byte-identical');
  t.match(JSON.parse(await readFile(join(models, 'manifests', 'demo.json'), 'utf8')), { blob: `sha256:${sha}` });
  t.notOk((await readdir(blobs)).some((e) => e.startsWith('.pull-')), 'no partial left');

  const refused = await run(['pull', '--config', config, '--name', 'page', '--url', server.url('/page.gguf')], dir);
  t.equal(refused.code, 1, 'a failed pull');
  t.match(refused.stderr, /page\.gguf is not a valid GGUF model: .*quarantined to .*nothing entered the store/);
  t.equal(refused.stdout, '');
  await t.rejects(stat(join(models, 'manifests', 'page.json')), { code: 'ENOENT' }, 'no manifest');
  t.same((await readdir(blobs)).sort(), [sha.slice(0, 2)], 'no blob and no partial besides the demo model');
});

t.test('`inferd import` and `inferd models`', async (t) => {
  const dir = await tempDir(t, 'inferd-cli-');
  const models = join(dir, 'models');
  const file = join(dir, 'local.gguf');
  await copyFile(await demoModelPath('tiny'), file); // a real GGUF: import runs the GGUF check
  const body = await readFile(file);
  const sha = sha256Hex(body);

  const bad = await run(['import', '--models-home', models, '--name', 'loc', file, '--expect-sha256', '1'.repeat(64)], dir);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /nothing was imported/);

  const good = await run(['import', '--models-home', models, '--name', 'loc', file, '--expect-sha256', sha], dir);
  t.equal(good.code, 0, good.stderr);
  t.match(JSON.parse(good.stdout), { name: 'loc', sha256: sha, size_bytes: body.length, blob_created: true });

  const traversal = await run(['import', '--models-home', models, '--name', '../../evil', file], dir);
  t.equal(traversal.code, 2);
  t.notOk(existsSync(join(dir, 'evil.json')));

  // Not a GGUF file, and a missing file: refused with a clear message, nothing enters the store.
  const passwd = join(dir, 'passwd');
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n');
  const notGguf = await run(['import', '--models-home', models, '--name', 'bad', passwd], dir);
  t.equal(notGguf.code, 2, 'non-zero exit');
  t.match(notGguf.stderr, new RegExp(`${passwd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*GGUF.*nothing was imported`, 's'));
  t.notMatch(notGguf.stderr, /\.import-/, 'the message names the user\'s file, not the private copy');
  const missing = await run(['import', '--models-home', models, '--name', 'gone', join(dir, 'absent.gguf')], dir);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /absent\.gguf.*ENOENT/);

  const list = await run(['models', '--models-home', models, '--json'], dir);
  t.equal(list.code, 0);
  const listed = JSON.parse(list.stdout) as { models: Array<{ name: string }> };
  t.same(listed.models.map((m) => m.name), ['loc'], 'the refused imports are not listed');
  t.match(listed, { models: [{ name: 'loc', sha256: sha, size_bytes: body.length, present: true, status: 'ok', problem: null }] });

  const table = await run(['models', '--models-home', models], dir);
  t.match(table.stdout, /^NAME\s+SIZE\s+SHA256\s+STATUS\nloc\s+\S+ \S+\s+[0-9a-f]{12}\s+ok\n$/);

  const rec = await run(['models', '--models-home', models, '--json', '--reconcile'], dir);
  t.match(JSON.parse(rec.stdout), { models: [{ name: 'loc' }], reconcile: { partials: [], orphanBlobs: [], danglingManifests: [] } });

  // A blob damaged on disk. A changed byte in the weights passes the cheap check (header and
  // tensor table only) but not --verify; a damaged header is broken either way.
  const blob = (JSON.parse(good.stdout) as { path: string }).path;
  await chmod(blob, 0o644);
  const damaged = Buffer.from(body);
  damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1);
  await writeFile(blob, damaged);
  const cheap = await run(['models', '--models-home', models, '--json'], dir);
  t.match(JSON.parse(cheap.stdout), { models: [{ name: 'loc', status: 'ok' }] }, 'weights are not read without --verify');
  const verified = await run(['models', '--models-home', models, '--json', '--verify'], dir);
  t.match(JSON.parse(verified.stdout), { models: [{ name: 'loc', status: 'broken', problem: /hashes to [0-9a-f]{64}/ }] });
  damaged.write('JUNK', 0, 'latin1');
  await writeFile(blob, damaged);
  const broken = await run(['models', '--models-home', models], dir);
  t.equal(broken.code, 0, 'listing still succeeds');
  t.match(broken.stdout, /^loc\s+\S+ \S+\s+[0-9a-f]{12}\s+broken$/m);
  t.match(broken.stderr, /loc: .*GGUF/);
});
